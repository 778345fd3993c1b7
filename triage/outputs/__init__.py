"""Timeline writers. Each takes stored rows in timeline order and writes one file, streaming."""
