"""The curated catalogue of Windows event log records that go on the timeline by default.

Data, not code: one entry per (provider, event id). The `evtx` extractor puts a record on the
timeline when its System/Provider@Name (case-insensitive; `aliases` for older names) and
EventID match an entry; with `--evtx-all` every record goes on it and uncatalogued ones get a
generic message. To add an event: add an entry here with the field names as Windows writes them
in EventData (`<Data Name="...">`) or UserData (the leaf element names; attributes of the
UserData wrapper element by their own name, those of an inner element as `Element_attribute`).

Entry:
    provider, event_id  the key; `channel` is the log it is written to (the key used only when a
                        record names no provider).
    timestamp_desc      what the event's time means ("Logon", "Service Installed"...).
    message             a template: `{Name}` is a field or a derived value (`-` when absent);
                        a `[...]` segment is dropped when any field in it is absent, empty or `-`.
    fields              the fields and derived values kept in the event's data (the record's
                        other EventData fields are not kept for catalogued events).
    user                the account the event is about: "target" (TargetDomainName\\
                        TargetUserName), "subject" (SubjectDomainName\\SubjectUserName) or a field
                        name; when that is empty, the System/Security@UserID account.
    derive              derived values computed by the extractor (see `DERIVED`).
    ints                fields kept as integers (decimal or 0x-hex text) rather than text.
    keep_all            keep every EventData field, not only `fields` (for events whose field
                        list varies between Windows builds and is not documented).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    provider: str
    event_id: int
    channel: str
    timestamp_desc: str
    message: str
    fields: tuple[str, ...]
    user: str | None = None
    derive: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    keep_all: bool = False


# Derived values the extractor computes when an entry names them in `derive`:
DERIVED = {
    "accounts": "target / subject: Domain\\User of the Target* / Subject* fields",
    "source": "source: IpAddress, else WorkstationName (absent when both are '-' or empty)",
    "logon_type": "logon_type_name: the name of LogonType (LOGON_TYPES)",
    "status": "status_name, sub_status_name: the meaning of Status / SubStatus (NTSTATUS_NAMES)",
    "disk": "connected (Capacity > 0), partition_table_present (PartitionTableBytes or "
            "PartitionTable non-empty), disk_state ('connected'/'disconnected'), "
            "disk_event ('Connected'/'Disconnected')",
    "script": "ScriptBlockText cut to 4 KiB of UTF-8 (script_truncated), script_length "
              "(characters), script_sha256 (of the full text in UTF-8), script_preview",
}

LOGON_TYPES = {
    0: "system",
    2: "interactive",
    3: "network",
    4: "batch",
    5: "service",
    7: "unlock",
    8: "network cleartext",
    9: "new credentials",
    10: "remote interactive",
    11: "cached interactive",
    12: "cached remote interactive",
    13: "cached unlock",
}

# NTSTATUS codes seen in 4625 Status / SubStatus (upper-case hex, 8 digits).
NTSTATUS_NAMES = {
    "0X00000000": "success",
    "0XC0000064": "no such user",
    "0XC000006A": "wrong password",
    "0XC000006D": "bad user name or authentication information",
    "0XC000006E": "account restriction",
    "0XC000006F": "outside allowed logon hours",
    "0XC0000070": "workstation restriction",
    "0XC0000071": "password expired",
    "0XC0000072": "account disabled",
    "0XC00000DC": "server in wrong state",
    "0XC0000133": "clock skew with the domain controller",
    "0XC000015B": "logon type not granted",
    "0XC000018C": "trust relationship failed",
    "0XC0000192": "NetLogon service not started",
    "0XC0000193": "account expired",
    "0XC0000224": "password must change at next logon",
    "0XC0000225": "Windows bug (not a risk)",
    "0XC0000234": "account locked out",
    "0XC00002EE": "an error occurred during logon",
    "0XC0000413": "authentication firewall: not allowed on this machine",
}

_SECURITY = "Microsoft-Windows-Security-Auditing"
_SUBJECT = ("SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId")
_TARGET_ACCOUNT = ("TargetUserName", "TargetDomainName", "TargetSid")
_EVENTLOG = "Microsoft-Windows-Eventlog"
_USERPNP = "Microsoft-Windows-UserPnp"
_KERNEL_PNP = "Microsoft-Windows-Kernel-PnP"
_UMDF = "Microsoft-Windows-DriverFrameworks-UserMode"
_LSM = "Microsoft-Windows-TerminalServices-LocalSessionManager"
_SYSMON = "Microsoft-Windows-Sysmon"
_UMDF_FIELDS = ("instance", "lifetime", "Request_major", "Request_minor", "Status")

CATALOG: tuple[Entry, ...] = (
    # --- Security log: logons --------------------------------------------------------------
    Entry(_SECURITY, 4624, "Security", "Logon",
          "Logon type {LogonType} ({logon_type_name}) by {target}[ from {source}]",
          ("TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType",
           "logon_type_name", "LogonProcessName", "AuthenticationPackageName", "WorkstationName",
           "IpAddress", "IpPort", "ProcessName", "SubjectUserSid", "SubjectUserName",
           "SubjectDomainName", "ElevatedToken", "TargetLinkedLogonId"),
          user="target", derive=("accounts", "source", "logon_type"), ints=("LogonType",)),
    Entry(_SECURITY, 4625, "Security", "Failed Logon",
          "Failed logon type {LogonType} ({logon_type_name}) for {target}[ from {source}]: "
          "{status_name} (status {Status}, sub-status {SubStatus})",
          ("TargetUserSid", "TargetUserName", "TargetDomainName", "Status", "status_name",
           "SubStatus", "sub_status_name", "FailureReason", "LogonType", "logon_type_name",
           "LogonProcessName", "AuthenticationPackageName", "WorkstationName", "IpAddress",
           "IpPort", "ProcessName", "SubjectUserSid", "SubjectUserName", "SubjectDomainName"),
          user="target", derive=("accounts", "source", "logon_type", "status"),
          ints=("LogonType",)),
    Entry(_SECURITY, 4634, "Security", "Logoff",
          "Logoff of {target} (logon type {LogonType}, {logon_type_name}; logon ID "
          "{TargetLogonId})",
          ("TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType",
           "logon_type_name"),
          user="target", derive=("accounts", "logon_type"), ints=("LogonType",)),
    Entry(_SECURITY, 4647, "Security", "Logoff",
          "User-initiated logoff of {target} (logon ID {TargetLogonId})",
          ("TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId"),
          user="target", derive=("accounts",)),
    Entry(_SECURITY, 4648, "Security", "Explicit Credentials Logon",
          "{subject} used the explicit credentials of {target}[ for {TargetServerName}]"
          "[ via {ProcessName}][ from {source}]",
          _SUBJECT + ("TargetUserName", "TargetDomainName", "TargetServerName", "TargetInfo",
                      "ProcessName", "IpAddress", "IpPort"),
          user="subject", derive=("accounts", "source")),
    Entry(_SECURITY, 4672, "Security", "Special Privileges Assigned",
          "Special privileges assigned to {subject} (logon ID {SubjectLogonId}): {PrivilegeList}",
          _SUBJECT + ("PrivilegeList",), user="subject", derive=("accounts",)),
    # --- Security log: accounts ------------------------------------------------------------
    Entry(_SECURITY, 4720, "Security", "Account Created",
          "Account {target} created by {subject}",
          _TARGET_ACCOUNT + _SUBJECT + ("SamAccountName", "UserPrincipalName", "NewUacValue"),
          user="subject", derive=("accounts",)),
    Entry(_SECURITY, 4722, "Security", "Account Enabled",
          "Account {target} enabled by {subject}",
          _TARGET_ACCOUNT + _SUBJECT, user="subject", derive=("accounts",)),
    Entry(_SECURITY, 4724, "Security", "Password Reset",
          "Password of account {target} reset by {subject}",
          _TARGET_ACCOUNT + _SUBJECT, user="subject", derive=("accounts",)),
    Entry(_SECURITY, 4738, "Security", "Account Changed",
          "Account {target} changed by {subject}",
          _TARGET_ACCOUNT + _SUBJECT + ("SamAccountName", "PasswordLastSet", "AccountExpires",
                                        "OldUacValue", "NewUacValue", "UserAccountControl"),
          user="subject", derive=("accounts",)),
    Entry(_SECURITY, 4732, "Security", "Member Added to Group",
          "{MemberName} ({MemberSid}) added to local group {TargetDomainName}\\{TargetUserName} "
          "by {subject}",
          ("MemberName", "MemberSid", "TargetUserName", "TargetDomainName", "TargetSid")
          + _SUBJECT, user="subject", derive=("accounts",)),
    Entry(_EVENTLOG, 1102, "Security", "Log Cleared",
          "Security audit log cleared by {subject}",
          _SUBJECT, user="subject", derive=("accounts",)),
    # --- Security log: object, process and share access ------------------------------------
    Entry(_SECURITY, 4663, "Security", "Object Access",
          "{subject} accessed {ObjectType} {ObjectName} (access mask {AccessMask})"
          "[ via {ProcessName}]",
          _SUBJECT + ("ObjectServer", "ObjectType", "ObjectName", "HandleId", "AccessList",
                      "AccessMask", "ProcessId", "ProcessName"),
          user="subject", derive=("accounts",)),
    Entry(_SECURITY, 4688, "Security", "Process Created",
          "{NewProcessName} started by {subject}[ (parent {ParentProcessName})][: {CommandLine}]",
          _SUBJECT + ("NewProcessId", "NewProcessName", "CommandLine", "ProcessId",
                      "ParentProcessName", "TokenElevationType", "MandatoryLabel",
                      "TargetUserSid", "TargetUserName", "TargetDomainName"),
          user="subject", derive=("accounts",)),
    Entry(_SECURITY, 5140, "Security", "Network Share Access",
          "{subject} accessed share {ShareName}[ ({ShareLocalPath})][ from {IpAddress}]",
          _SUBJECT + ("ObjectType", "IpAddress", "IpPort", "ShareName", "ShareLocalPath",
                      "AccessMask", "AccessList"),
          user="subject", derive=("accounts",)),
    Entry(_SECURITY, 5145, "Security", "Network Share Object Access",
          "{subject} accessed {ShareName}\\{RelativeTargetName}[ from {IpAddress}] "
          "(access mask {AccessMask})",
          _SUBJECT + ("ObjectType", "IpAddress", "IpPort", "ShareName", "ShareLocalPath",
                      "RelativeTargetName", "AccessMask", "AccessList"),
          user="subject", derive=("accounts",)),
    # --- System log ------------------------------------------------------------------------
    Entry(_EVENTLOG, 104, "System", "Log Cleared",
          "Event log {Channel} cleared by {subject}[ (backup {BackupPath})]",
          ("SubjectUserName", "SubjectDomainName", "Channel", "BackupPath"),
          user="subject", derive=("accounts",)),
    Entry("EventLog", 6005, "System", "Service Started",
          "Event log service started (system start-up)", ()),
    Entry("EventLog", 6006, "System", "Service Stopped",
          "Event log service stopped (clean shutdown)", ()),
    Entry("EventLog", 6008, "System", "Unexpected Shutdown",
          "The previous system shutdown[ at {1}][ on {2}] was unexpected", ("strings",)),
    Entry("Service Control Manager", 7045, "System", "Service Installed",
          "Service {ServiceName} installed: {ImagePath}[ ({ServiceType}, {StartType})]"
          "[ as {AccountName}]",
          ("ServiceName", "ImagePath", "ServiceType", "StartType", "AccountName")),
    Entry(_USERPNP, 20001, "System", "Device Installed",
          "Driver installed for device {DeviceInstanceID}[: {DriverDescription}]"
          "[ ({DriverProvider} {DriverVersion})][, status {InstallStatus}]",
          ("DeviceInstanceID", "DriverName", "DriverVersion", "DriverProvider", "SetupClass",
           "DriverDescription", "InstallStatus", "IsDriverOEM", "UpgradeDevice")),
    Entry(_USERPNP, 20003, "System", "Device Service Added",
          "Service {ServiceName}[ ({DriverFileName})] added for device {DeviceInstanceID}",
          ("ServiceName", "DriverFileName", "DeviceInstanceID", "PrimaryService",
           "UpdateService", "AddServiceStatus")),
    # --- USB and other devices -------------------------------------------------------------
    Entry("Microsoft-Windows-Partition", 1006, "Microsoft-Windows-Partition/Diagnostic",
          "Disk {disk_event}",
          "Disk {disk_state}: {Manufacturer} {Model}[ serial {SerialNumber}][, {Capacity} bytes]"
          "[ (parent {ParentId})]",
          ("SerialNumber", "Manufacturer", "Model", "Revision", "Capacity", "ParentId",
           "DiskId", "BusType", "PartitionStyle", "PartitionCount", "connected",
           "partition_table_present"),
          derive=("disk",), ints=("Capacity", "BusType", "PartitionStyle", "PartitionCount")),
    # Storage service diagnostics (Windows 10 1809 and later, where the channel is enabled):
    # device reports with vendor, product and serial. Microsoft does not document the field
    # list and it varies by build, so every field is kept; the message names the usual ones.
    *(Entry("Microsoft-Windows-Storsvc", event_id, "Microsoft-Windows-Storsvc/Diagnostic",
            "Storage Service Device Report",
            f"Storage service diagnostic event {event_id}: device[ {{VendorId}}][ {{ProductId}}]"
            "[ {Manufacturer}][ {Model}][ serial {SerialNumber}][, bus type {BusType}]"
            "[, {Size} bytes][, {Capacity} bytes]",
            ("VendorId", "ProductId", "ProductRevision", "Manufacturer", "Model",
             "SerialNumber", "BusType", "Size", "Capacity", "DiskNumber", "DiskId",
             "ParentId"),
            ints=("BusType", "Size", "Capacity", "DiskNumber"), keep_all=True)
      for event_id in (1001, 1002)),
    Entry(_KERNEL_PNP, 400, "Microsoft-Windows-Kernel-PnP/Configuration", "Device Configured",
          "Device {DeviceInstanceId} configured[ (driver {DriverName})]",
          ("DeviceInstanceId", "DriverName", "ClassGuid", "DriverVersion", "DriverProvider",
           "ParentDeviceInstanceId", "Status")),
    Entry(_KERNEL_PNP, 410, "Microsoft-Windows-Kernel-PnP/Configuration", "Device Started",
          "Device {DeviceInstanceId} started[ (driver {DriverName})]",
          ("DeviceInstanceId", "DriverName", "ServiceName", "Status")),
    Entry(_UMDF, 2003, "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
          "Device Driver Load", "UMDF driver load for device {instance}[ (lifetime {lifetime})]",
          _UMDF_FIELDS),
    Entry(_UMDF, 2100, "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
          "Device PnP Operation", "PnP/power operation[ ({Request_major}, {Request_minor})] "
          "received for device {instance}[ (lifetime {lifetime})]", _UMDF_FIELDS),
    Entry(_UMDF, 2101, "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
          "Device PnP Operation", "PnP/power operation[ ({Request_major}, {Request_minor})] "
          "completed for device {instance}[ (lifetime {lifetime})]", _UMDF_FIELDS),
    Entry(_UMDF, 2102, "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
          "Device PnP Operation", "PnP/power operation[ ({Request_major}, {Request_minor})] "
          "forwarded finished for device {instance}[ (lifetime {lifetime})]", _UMDF_FIELDS),
    # --- Remote desktop --------------------------------------------------------------------
    Entry(_LSM, 21, "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
          "Remote Session Logon",
          "Remote desktop session logon: {User} (session {SessionID})[ from {Address}]",
          ("User", "SessionID", "Address"), user="User"),
    Entry(_LSM, 24, "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
          "Remote Session Disconnected",
          "Remote desktop session disconnected: {User} (session {SessionID})[ from {Address}]",
          ("User", "SessionID", "Address"), user="User"),
    Entry(_LSM, 25, "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
          "Remote Session Reconnected",
          "Remote desktop session reconnected: {User} (session {SessionID})[ from {Address}]",
          ("User", "SessionID", "Address"), user="User"),
    Entry("Microsoft-Windows-RemoteDesktopServices-RdpCoreTS", 131,
          "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational",
          "Remote Connection Accepted",
          "RDP server accepted a[ {ConnType}] connection from {ClientIP}",
          ("ConnType", "ClientIP")),
    # --- PowerShell and Sysmon -------------------------------------------------------------
    Entry("Microsoft-Windows-PowerShell", 4104, "Microsoft-Windows-PowerShell/Operational",
          "Script Block Logged",
          "PowerShell script block {ScriptBlockId} (part {MessageNumber} of {MessageTotal})"
          "[ from {Path}]: {script_preview}",
          ("ScriptBlockText", "script_length", "script_sha256", "script_truncated",
           "ScriptBlockId", "MessageNumber", "MessageTotal", "Path"),
          derive=("script",), ints=("MessageNumber", "MessageTotal")),
    Entry(_SYSMON, 1, "Microsoft-Windows-Sysmon/Operational", "Process Created",
          "{Image} started[ by {User}][: {CommandLine}][ (parent {ParentImage})]",
          ("UtcTime", "ProcessGuid", "ProcessId", "Image", "OriginalFileName", "CommandLine",
           "CurrentDirectory", "User", "LogonId", "IntegrityLevel", "Hashes",
           "ParentProcessGuid", "ParentProcessId", "ParentImage", "ParentCommandLine"),
          user="User"),
    Entry(_SYSMON, 3, "Microsoft-Windows-Sysmon/Operational", "Network Connection",
          "{Image}[ ({Protocol})] connection from {SourceIp}:{SourcePort} to "
          "{DestinationIp}:{DestinationPort}[ ({DestinationHostname})]",
          ("UtcTime", "ProcessGuid", "ProcessId", "Image", "User", "Protocol", "Initiated",
           "SourceIp", "SourceHostname", "SourcePort", "DestinationIp", "DestinationHostname",
           "DestinationPort"),
          user="User"),
    Entry(_SYSMON, 11, "Microsoft-Windows-Sysmon/Operational", "File Created",
          "{Image} created {TargetFilename}",
          ("UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime",
           "User"),
          user="User"),
)


def _index() -> tuple[dict[tuple[str, int], Entry], dict[tuple[str, int], Entry]]:
    by_provider: dict[tuple[str, int], Entry] = {}
    by_channel: dict[tuple[str, int], Entry] = {}
    for entry in CATALOG:
        for name in (entry.provider, *entry.aliases):
            key = (name.lower(), entry.event_id)
            if key in by_provider:
                raise ValueError(f"duplicate catalogue entry {name} {entry.event_id}")
            by_provider[key] = entry
        by_channel.setdefault((entry.channel.lower(), entry.event_id), entry)
    return by_provider, by_channel


_BY_PROVIDER, _BY_CHANNEL = _index()


def lookup(provider: str | None, channel: str | None, event_id: int | None) -> Entry | None:
    """The entry for a record: by provider name, or by channel when it names no provider."""
    if event_id is None:
        return None
    if provider:
        return _BY_PROVIDER.get((provider.lower(), event_id))
    if channel:
        return _BY_CHANNEL.get((channel.lower(), event_id))
    return None
