"""Timeline line formats: each module turns one stored event row (read by position) into a
line of its file; triage.case writes the files, triage.export writes selections with them."""
