"""Names of the shell folders, known folders and Control Panel entries that shell items point
at by GUID (Microsoft's shell folder CLSID and KNOWNFOLDERID documentation).

One table per kind of GUID, shared by every caller. The callers have long spelt a few names
their own way and their output must not change, so `folder_name(guid, style)` takes a style:

* "registry" (RecentDocs, ComDlg32 MRUs): REGISTRY_NAMES first (five folders spelt "My
  Pictures"...), then a shell folder's display name, else the known folder's canonical name
  ("ProgramFilesX86");
* "shellbag": shell folders only;
* "link" (LNK target ID lists, Jump Lists): LINK_NAMES first (display names such as
  "Program Files (x86)", "Documents Library"), then the shell folders.
"""
from __future__ import annotations

# Shell folder CLSIDs: root folders, "This PC" folders, libraries, delegate folders.
SHELL_FOLDERS: dict[str, str] = {
    "20D04FE0-3AEA-1069-A2D8-08002B30309D": "My Computer",
    "450D8FBA-AD25-11D0-98A8-0800361B1103": "My Documents",
    "208D2C60-3AEA-1069-A2D7-08002B30309D": "My Network Places",
    "F02C1A0D-BE21-4350-88B0-7367FC96EF3C": "Network",
    "645FF040-5081-101B-9F08-00AA002F954E": "Recycle Bin",
    "26EE0668-A00A-44D7-9371-BEB064C98683": "Control Panel",
    "21EC2020-3AEA-1069-A2DD-08002B30309D": "Control Panel",
    "5399E694-6CE5-4D6C-8FCE-1D8870FDCBA0": "Control Panel Home",
    "ED7BA470-8E54-465E-825C-99712043E01C": "All Tasks",
    "59031A47-3F72-44A7-89C5-5595FE6B30EE": "Users Files",
    "031E4825-7B94-4DC3-B131-E946B44C8DD5": "Libraries",
    "1B3EA5DC-B587-4786-B4EF-BD1DC332AEAE": "Libraries",
    "679F85CB-0220-4080-B29B-5540CC05AAB6": "Quick Access",
    "F874310E-B6B7-47DC-BC84-B9E6B38F5903": "Home",
    "E88865EA-0E1C-4E20-9AA6-EDCD0212C87C": "Gallery",
    "22877A6D-37A1-461A-91B0-DBDA5AAEBC99": "Recent Places",
    "323CA680-C24D-4099-B94D-446DD2D7249E": "Favorites",
    "018D5C66-4533-4307-9B53-224DE2ED1FE6": "OneDrive",
    "E31EA727-12ED-4702-820C-4B6445F28E1A": "Dropbox",
    "871C5380-42A0-1069-A2EA-08002B30309D": "Internet Explorer",
    "2227A280-3AEA-1069-A2DE-08002B30309D": "Printers",
    "7007ACC7-3202-11D1-AAD2-00805FC1270E": "Network Connections",
    "35786D3C-B075-49B9-88DD-029876E11C01": "Portable Devices",
    "4336A54D-038B-4685-AB02-99BB52D3FB8B": "Public",
    "4234D49B-0245-4DF3-B780-3893943456E1": "Applications",
    "ED228FDF-9EA8-4870-83B1-96B02CFE0D52": "Games",
    "04731B67-D933-450A-90E6-4ACD2E9408FE": "Search Results",
    "9343812E-1C37-4A49-A12E-4B2D810D956B": "Search Home",
    "E88DCCE0-B7B3-11D1-A9F0-00AA0060FA31": "Compressed Folder",
    "3080F90D-D7AD-11D9-BD98-0000947B0257": "Show Desktop",
    "3080F90E-D7AD-11D9-BD98-0000947B0257": "Window Switcher",
    "F5FB2C77-0E2F-4A16-A381-3E560C68BC83": "Removable Drives",
    "5E591A74-DF96-48D3-8D67-1733BCEE28BA": "Delegate folder in This PC",
    "DFFACDC5-679F-4156-8947-C5C76BC0B67F": "Delegate folder in Users Files",
    # This PC folders (Windows 8.1 and later)
    "B4BFCC3A-DB2C-424C-B029-7FE99A87C641": "Desktop",
    "A8CDFF1C-4878-43BE-B5FD-F8091C1C60D0": "Documents",
    "D3162B92-9365-467A-956B-92703ACA08AF": "Documents",
    "374DE290-123F-4565-9164-39C4925E467B": "Downloads",
    "088E3905-0323-4B02-9826-5D99428E115F": "Downloads",
    "1CF1260C-4DD0-4EBB-811F-33C572699FDE": "Music",
    "3DFDF296-DBEC-4FB4-81D1-6A3438BCF4DE": "Music",
    "3ADD1653-EB32-4CB0-BBD7-DFA0ABB5ACCA": "Pictures",
    "24AD3AD4-A569-4530-98E1-AB02F9417AA8": "Pictures",
    "A0953C92-50DC-43BF-BE83-3742FED03C9C": "Videos",
    "F86FA3AB-70D2-4FC7-9C99-FCBF05467F3A": "Videos",
    "0DB7E03F-FC29-4DC6-9020-FF41B59E513A": "3D Objects",
    # Libraries (Windows 7 and later)
    "7B0DB17D-9CD2-4A93-9733-46CC89022E7C": "Documents",
    "2112AB0A-C86A-4FFE-A368-0DE96E47012E": "Music",
    "A990AE9F-A03B-4E80-94BC-9912D7504104": "Pictures",
    "491E922F-5643-4AF4-A7EB-4E7A138D8174": "Videos",
}

# Folders whose items mean "removable media" / "network" anywhere in a path.
REMOVABLE_FOLDERS = {"F5FB2C77-0E2F-4A16-A381-3E560C68BC83", "35786D3C-B075-49B9-88DD-029876E11C01"}
NETWORK_FOLDERS = {"F02C1A0D-BE21-4350-88B0-7367FC96EF3C", "208D2C60-3AEA-1069-A2D7-08002B30309D"}
USERS_FILES = "59031A47-3F72-44A7-89C5-5595FE6B30EE"

# KNOWNFOLDERID values: canonical name and default location with environment variables.
# UserAssist names programs as "{GUID}\\rest of path"; MRU paths use the location.
_START = "%APPDATA%\\Microsoft\\Windows\\Start Menu"
_COMMON_START = "%PROGRAMDATA%\\Microsoft\\Windows\\Start Menu"
_QUICK_LAUNCH = "%APPDATA%\\Microsoft\\Internet Explorer\\Quick Launch"
KNOWN_FOLDERS: dict[str, tuple[str, str]] = {
    "6D809377-6AF0-444B-8957-A3773F02200E": ("ProgramFilesX64", "%PROGRAMFILES%"),
    "7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E": ("ProgramFilesX86", "%PROGRAMFILES(X86)%"),
    "905E63B6-C1BF-494E-B29C-65B732D3D21A": ("ProgramFiles", "%PROGRAMFILES%"),
    "F7F1ED05-9F6D-47A2-AAAE-29D317C6F066": ("ProgramFilesCommon", "%COMMONPROGRAMFILES%"),
    "6365D5A7-0F0D-45E5-87F6-0DA56B6A4F7D": ("ProgramFilesCommonX64", "%COMMONPROGRAMFILES%"),
    "DE974D24-D9C6-4D3E-BF91-F4455120B917": ("ProgramFilesCommonX86", "%COMMONPROGRAMFILES(X86)%"),
    "1AC14E77-02E7-4E5D-B744-2EB1AE5198B7": ("System", "%WINDIR%\\System32"),
    "D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27": ("SystemX86", "%WINDIR%\\SysWOW64"),
    "F38BF404-1D43-42F2-9305-67DE0B28FC23": ("Windows", "%WINDIR%"),
    "0139D44E-6AFE-49F2-8690-3DAFCAE6FFB8": ("CommonPrograms", _COMMON_START + "\\Programs"),
    "A77F5D77-2E2B-44C3-A6A2-ABA601054A51": ("Programs", _START + "\\Programs"),
    "625B53C3-AB48-4EC1-BA1F-A1EF4146FC19": ("StartMenu", _START),
    "A4115719-D62E-491D-AA7C-E74B8BE3B067": ("CommonStartMenu", _COMMON_START),
    "B97D20BB-F46A-4C97-BA10-5E3608430854": ("Startup", _START + "\\Programs\\Startup"),
    "82A5EA35-D9CD-47C5-9629-E15D2F714E6E": ("CommonStartup",
                                             _COMMON_START + "\\Programs\\Startup"),
    "9E3995AB-1F9C-4F13-B827-48B24B6C7174": ("UserPinned", _QUICK_LAUNCH + "\\User Pinned"),
    "52A4F021-7B75-48A9-9F6B-4B87A210BC8F": ("QuickLaunch", _QUICK_LAUNCH),
    "724EF170-A42D-4FEF-9F26-B60E846FBA4F": ("AdminTools",
                                             _START + "\\Programs\\Administrative Tools"),
    "D0384E7D-BAC3-4797-8F14-CBA229B392B5": ("CommonAdminTools",
                                             _COMMON_START + "\\Programs\\Administrative Tools"),
    "5E6C858F-0E22-4760-9AFE-EA3317B67173": ("Profile", "%USERPROFILE%"),
    "B4BFCC3A-DB2C-424C-B029-7FE99A87C641": ("Desktop", "%USERPROFILE%\\Desktop"),
    "FDD39AD0-238F-46AF-ADB4-6C85480369C7": ("Documents", "%USERPROFILE%\\Documents"),
    "374DE290-123F-4565-9164-39C4925E467B": ("Downloads", "%USERPROFILE%\\Downloads"),
    "4BD8D571-6D19-48D3-BE97-422220080E43": ("Music", "%USERPROFILE%\\Music"),
    "33E28130-4E1E-4676-835A-98395C3BC3BB": ("Pictures", "%USERPROFILE%\\Pictures"),
    "18989B1D-99B5-455B-841C-AB7C74E4DDFC": ("Videos", "%USERPROFILE%\\Videos"),
    "1777F761-68AD-4D8A-87BD-30B759FA33DD": ("Favorites", "%USERPROFILE%\\Favorites"),
    "BFB9D5E0-C6A9-404C-B2B2-AE6DB6AF4968": ("Links", "%USERPROFILE%\\Links"),
    "56784854-C6CB-462B-8169-88E350ACB882": ("Contacts", "%USERPROFILE%\\Contacts"),
    "4C5C32FF-BB9D-43B0-B5B4-2D72E54EAAA4": ("SavedGames", "%USERPROFILE%\\Saved Games"),
    "7D1D3A04-DEBB-4115-95CF-2F29DA2920DA": ("SavedSearches", "%USERPROFILE%\\Searches"),
    "3EB685DB-65F9-4CF6-A03A-E3EF65729F3D": ("RoamingAppData", "%APPDATA%"),
    "F1B32785-6FBA-4FCF-9D55-7B8E7F157091": ("LocalAppData", "%LOCALAPPDATA%"),
    "A520A1A4-1780-4FF6-BD18-167343C5AF16": ("LocalAppDataLow", "%USERPROFILE%\\AppData\\LocalLow"),
    "5CD7AEE2-2219-4A67-B85D-6C9CE15660CB": ("UserProgramFiles", "%LOCALAPPDATA%\\Programs"),
    "BCBD3057-CA5C-4622-B42D-BC56DB0AE516": ("UserProgramFilesCommon",
                                             "%LOCALAPPDATA%\\Programs\\Common"),
    "AE50C081-EBD2-438A-8655-8A092E34987A": ("Recent", "%APPDATA%\\Microsoft\\Windows\\Recent"),
    "8983036C-27C0-404B-8F08-102D10DCFD74": ("SendTo", "%APPDATA%\\Microsoft\\Windows\\SendTo"),
    "A63293E8-664E-48DB-A079-DF759E0509F7": ("Templates",
                                             "%APPDATA%\\Microsoft\\Windows\\Templates"),
    "62AB5D82-FDC1-4DC3-A9DD-070D1D495D97": ("ProgramData", "%PROGRAMDATA%"),
    "DFDF76A2-C82A-4D63-906A-5644AC457385": ("Public", "%PUBLIC%"),
    "C4AA340D-F20F-4863-AFEF-F87EF2E6BA25": ("PublicDesktop", "%PUBLIC%\\Desktop"),
    "ED4824AF-DCE4-45A8-81E2-FC7965083634": ("PublicDocuments", "%PUBLIC%\\Documents"),
    "3D644C9B-1FB8-4F30-9B45-F670235F79C0": ("PublicDownloads", "%PUBLIC%\\Downloads"),
    "0762D272-C50A-4BB0-A382-697DCD729B80": ("UserProfiles", "%SYSTEMDRIVE%\\Users"),
    "352481E8-33BE-4251-BA85-6007CAEDCF9D": (
        "InternetCache", "%LOCALAPPDATA%\\Microsoft\\Windows\\Temporary Internet Files"),
    "2B0F765D-C0E9-4171-908E-08A611B84FF6": ("Cookies", "%APPDATA%\\Microsoft\\Windows\\Cookies"),
    "D9DC8A3B-B784-432E-A781-5A1130A75963": ("History",
                                             "%LOCALAPPDATA%\\Microsoft\\Windows\\History"),
    "8AD10C31-2ADB-4296-A8F7-E4701232C972": ("ResourceDir", "%WINDIR%\\Resources"),
}

# How shortcut paths have named folders (display names of known folders and libraries, and
# two shell folders spelt differently): checked before SHELL_FOLDERS in the "link" style.
LINK_NAMES: dict[str, str] = {
    "871C5380-42A0-1069-A2EA-08002B30309D": "Internet Folder",
    "679F85CB-0220-4080-B29B-5540CC05AAB6": "Quick access",
    "ED228FDF-9EA8-4870-83B1-96B02CFE0D52": "My Games",
    "7B0DB17D-9CD2-4A93-9733-46CC89022E7C": "Documents Library",
    "A990AE9F-A03B-4E80-94BC-9912D7504104": "Pictures Library",
    "2112AB0A-C86A-4FFE-A368-0DE96E47012E": "Music Library",
    "491E922F-5643-4AF4-A7EB-4E7A138D8174": "Videos Library",
    "FDD39AD0-238F-46AF-ADB4-6C85480369C7": "Documents",
    "33E28130-4E1E-4676-835A-98395C3BC3BB": "Pictures",
    "4BD8D571-6D19-48D3-BE97-422220080E43": "Music",
    "18989B1D-99B5-455B-841C-AB7C74E4DDFC": "Videos",
    "5E6C858F-0E22-4760-9AFE-EA3317B67173": "User Profile",
    "1777F761-68AD-4D8A-87BD-30B759FA33DD": "Favorites",
    "BFB9D5E0-C6A9-404C-B2B2-AE6DB6AF4968": "Links",
    "AE50C081-EBD2-438A-8655-8A092E34987A": "Recent Items",
    "F38BF404-1D43-42F2-9305-67DE0B28FC23": "Windows",
    "1AC14E77-02E7-4E5D-B744-2EB1AE5198B7": "System32",
    "D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27": "SysWOW64",
    "905E63B6-C1BF-494E-B29C-65B732D3D21A": "Program Files",
    "6D809377-6AF0-444B-8957-A3773F02200E": "Program Files (x64)",
    "7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E": "Program Files (x86)",
    "F1B32785-6FBA-4FCF-9D55-7B8E7F157091": "Local AppData",
    "3EB685DB-65F9-4CF6-A03A-E3EF65729F3D": "Roaming AppData",
    "A520A1A4-1780-4FF6-BD18-167343C5AF16": "LocalLow AppData",
    "62AB5D82-FDC1-4DC3-A9DD-070D1D495D97": "ProgramData",
    "DFDF76A2-C82A-4D63-906A-5644AC457385": "Public",
}

# How registry MRU paths have named five This PC / shell folders ("My Pictures" where ShellBags
# say "Pictures"): checked before SHELL_FOLDERS in the "registry" style.
REGISTRY_NAMES: dict[str, str] = {
    "1CF1260C-4DD0-4EBB-811F-33C572699FDE": "My Music",
    "3ADD1653-EB32-4CB0-BBD7-DFA0ABB5ACCA": "My Pictures",
    "A0953C92-50DC-43BF-BE83-3742FED03C9C": "My Videos",
    "ED228FDF-9EA8-4870-83B1-96B02CFE0D52": "My Games",
    "04731B67-D933-450A-90E6-4ACD2E9408FE": "Search Folder",
}

# Sort index of a root folder item whose GUID is all zeros (Windows XP).
ROOT_SORT_INDEX = {0x00: "Internet Explorer", 0x42: "Libraries", 0x44: "Users",
                   0x48: "My Documents", 0x50: "My Computer", 0x58: "Network", 0x60: "Recycle Bin",
                   0x68: "Internet Explorer", 0x80: "My Games"}

# Control Panel categories (class 0x01) by number.
CONTROL_PANEL_CATEGORIES = {
    0: "All Control Panel Items", 1: "Appearance and Personalization", 2: "Hardware and Sound",
    3: "Network and Internet", 4: "Sounds, Speech, and Audio Devices", 5: "System and Security",
    6: "Clock, Language, and Region", 7: "Ease of Access", 8: "Programs", 9: "User Accounts",
    10: "Security Center", 11: "Mobile PC",
}

# Control Panel applets (class 0x71) by CLSID.
CONTROL_PANEL_ITEMS = {
    "ED834ED6-4B5A-4BFE-8F11-A626DCB6A921": "Personalization",
    "BB06C0E4-D293-4F75-8A90-CB05B6477EEE": "System",
    "7B81BE6A-CE2B-4676-A29E-EB907A5126C5": "Programs and Features",
    "D450A8A1-9568-45C7-9C0E-B4F9FB4537BD": "Installed Updates",
    "9C60DE1E-E5FC-40F4-A487-460851A8D915": "AutoPlay",
    "BB64F8A7-BEE7-4E1A-AB8D-7D8273F7FDB6": "Action Center",
    "17CD9488-1228-4B2F-88CE-4298E93E0966": "Default Programs",
    "A8A91A66-3A7D-4424-8D24-04E180695C7A": "Devices and Printers",
    "025A5937-A6BE-4686-A844-36FE4BEC8B6D": "Power Options",
    "8E908FC9-BECC-40F6-915B-F4CA0E70D03D": "Network and Sharing Center",
    "60632754-C523-4B62-B45C-4172DA012619": "User Accounts",
    "C58C4893-3BE0-4B45-ABB5-A63E4B8C8651": "Troubleshooting",
    "36EEF7DB-88AD-4E81-AD49-0E313F0C35F8": "Windows Update",
    "D555645E-D4F8-4C29-A827-D93C859C4F2A": "Ease of Access Center",
    "C555438B-3C23-4769-A71F-B6D3D9B6053A": "Display",
    "F2DDFC82-8F12-4CDD-B7DC-D4FE1425AA4D": "Sound",
    "B98A2BEA-7D42-4558-8BD1-832F41BAC6FD": "Backup and Restore",
    "6DFD7C5C-2451-11D3-A299-00C04F8EF6AF": "Folder Options",
    "E2E7934B-DCE5-43C4-9576-7FE4F75E7480": "Date and Time",
    "62D8ED13-C9D0-4CE8-A914-47DD628FB1B0": "Region",
    "9FE63AFD-59CF-4419-9775-ABCC3849F861": "Recovery",
    "BD84B380-8CA2-1069-AB1D-08000948F534": "Fonts",
    "D9EF8727-CAC2-4E60-809E-86F80A666C91": "BitLocker Drive Encryption",
    "A3DD4F92-658A-410F-84FD-6FBBBEF2FFFE": "Internet Options",
    "6C8EEC18-8D75-41B2-A177-8831D59D2D50": "Mouse",
    "725BE8F7-668E-4C7B-8F90-46BDB0936430": "Keyboard",
    "4026492F-2F69-46B8-B9BF-5654FC07E423": "Windows Firewall",
    "1206F5F1-0569-412C-8FEC-3204630DFB70": "Credential Manager",
    "74246BFC-4C96-11D0-ABEF-0020AF6B0B7A": "Device Manager",
    "D20EA4E1-3957-11D2-A40B-0C5020524153": "Administrative Tools",
}


def folder_name(guid: str | None, style: str = "registry") -> str | None:
    """The name of a shell folder or known folder GUID (any case, braces allowed) in the
    caller's style (see the module doc); None when not known here."""
    if not guid:
        return None
    key = guid.strip("{}").upper()
    if style == "link":
        return LINK_NAMES.get(key) or SHELL_FOLDERS.get(key)
    if style == "registry" and key in REGISTRY_NAMES:
        return REGISTRY_NAMES[key]
    if key in SHELL_FOLDERS:
        return SHELL_FOLDERS[key]
    if style == "registry" and key in KNOWN_FOLDERS:
        return KNOWN_FOLDERS[key][0]
    return None
