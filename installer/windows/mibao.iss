; 密保 (MiBao) — Inno Setup script for Windows 10/11 x64.
;
; Installs the PyInstaller folder dist\mibao\ (built ON WINDOWS from installer\mibao.spec) per user
; or per machine, with a Start-menu entry 密保. Written on Linux: it has not been compiled or run
; here (nothing on the build machine of this repository can). Steps: installer\windows\README.md.
;
;   iscc /DAppVersion=0.1.0 installer\windows\mibao.iss
;   → dist\mibao-0.1.0-windows-x64-setup.exe
;
; Needs Inno Setup 6.3 or newer (x64compatible). The Chinese wizard comes from
; ChineseSimplified.isl: shipped in the compiler's Languages folder from Inno Setup 6.5, before that
; one of the unofficial translations (https://jrsoftware.org/files/istrans/); a copy placed beside
; this script is used when the compiler has none (see README.md).
;
; THE DATA IS NEVER THE INSTALLER'S: MiBao keeps its database, backups and logs in each user's
; %LOCALAPPDATA%\MiBao (platformdirs' user data folder, mibao_desktop/paths.py), outside {app}.
; An upgrade replaces {app}; an uninstall removes only {app}. Never list the data folder in
; [InstallDelete] or [UninstallDelete].

#if Ver < EncodeVer(6, 3, 0)
  #error 需要 Inno Setup 6.3 或更新版本 (Inno Setup 6.3 or newer is required)
#endif

#ifndef AppVersion
  #error 请用 /DAppVersion=版本号 指定版本(pyproject.toml 的 version),例如 iscc /DAppVersion=0.1.0 installer\windows\mibao.iss
#endif

#define Root AddBackslash(SourcePath) + "..\.."
#ifndef DistDir
  #define DistDir Root + "\dist\mibao"
#endif
#if !FileExists(DistDir + "\mibao.exe")
  #error 找不到 dist\mibao\mibao.exe:请先在 Windows 上运行 pyinstaller --noconfirm installer\mibao.spec
#endif

#if FileExists(CompilerPath + "Languages\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\ChineseSimplified.isl"
#elif FileExists(CompilerPath + "Languages\Unofficial\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\Unofficial\ChineseSimplified.isl"
#elif FileExists(AddBackslash(SourcePath) + "ChineseSimplified.isl")
  #define ChineseMessages AddBackslash(SourcePath) + "ChineseSimplified.isl"
#else
  #error 缺少简体中文界面文件 ChineseSimplified.isl:见 installer\windows\README.md(放到本脚本旁边,或 Inno Setup 的 Languages 文件夹)
#endif

[Setup]
; The same AppId for every version: a new version installs over the old one (and its uninstaller
; entry) instead of beside it. Never change it.
AppId={{DCD3018D-AE2C-4BB5-883C-7A2C221F4B0B}
AppName=密保
AppVersion={#AppVersion}
AppVerName=密保 {#AppVersion}
AppPublisher=密保
AppComments=保密台账管理:涉密计算机、存储介质、办公设备、载体和人员
VersionInfoVersion={#AppVersion}
VersionInfoProductName=密保 保密台账管理
; Per user (no administrator rights: %LOCALAPPDATA%\Programs\MiBao) or per machine
; (C:\Program Files\MiBao): the wizard asks which.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
DefaultDirName={autopf}\MiBao
UsePreviousAppDir=yes
DefaultGroupName=密保
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 or newer
MinVersion=10.0
WizardStyle=modern
ShowLanguageDialog=no
OutputDir={#Root}\dist
OutputBaseFilename=mibao-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
UninstallDisplayName=密保 {#AppVersion}
UninstallDisplayIcon={app}\mibao.exe
; A running MiBao is closed (after asking) before its files are replaced.
CloseApplications=yes
RestartApplications=no
SetupLogging=yes

[Languages]
Name: "chinesesimplified"; MessagesFile: "{#ChineseMessages}"

[CustomMessages]
DesktopIcon=在桌面创建“密保”快捷方式
AppComment=保密台账管理
DataOverlaps=安装文件夹不能是密保的数据文件夹,也不能包含它或在它之内:%n%n安装文件夹:%1%n数据文件夹:%2%n%n安装新版本或卸载时会替换或删除安装文件夹。请另选一个安装文件夹(例如默认的位置)。
DataKept=密保已卸载。%n%n您的数据(数据库、备份和日志)没有删除,仍在:%n%1%n%n重新安装密保后即可继续使用;如不再需要,可在确认已另行备份后手动删除该文件夹。
LaunchAfter=启动密保

[Tasks]
Name: "desktopicon"; Description: "{cm:DesktopIcon}"; Flags: unchecked

[InstallDelete]
; The previous version's bundle: a library or module it had and this one dropped must not linger
; and be loaded. Only the program's own folder: never the data.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#Root}\installer\安装说明.md"; DestDir: "{app}"; Flags: ignoreversion skipifsourcedoesntexist

[Icons]
Name: "{autoprograms}\密保"; Filename: "{app}\mibao.exe"; WorkingDir: "{app}"; Comment: "{cm:AppComment}"
Name: "{autodesktop}\密保"; Filename: "{app}\mibao.exe"; WorkingDir: "{app}"; Comment: "{cm:AppComment}"; Tasks: desktopicon

[Run]
; As the user who started Setup, not as the administrator it may have elevated to: MiBao makes its
; data folder in the %LOCALAPPDATA% of whoever runs it.
Filename: "{app}\mibao.exe"; Description: "{cm:LaunchAfter}"; Flags: nowait postinstall skipifsilent runasoriginaluser

[Code]
function DataFolder: String;
begin
  { platformdirs.user_data_dir("MiBao", appauthor=False) on Windows; MIBAO_DATA_DIR or --data-dir
    may point elsewhere, which the program itself checks at every start. }
  Result := ExpandConstant('{localappdata}\MiBao');
end;

function SameOrInside(const Inner, Outer: String): Boolean;
var
  I, O: String;
begin
  I := AddBackslash(Lowercase(ExpandFileName(Inner)));
  O := AddBackslash(Lowercase(ExpandFileName(Outer)));
  Result := Copy(I, 1, Length(O)) = O;
end;

function OverlapMessage(const AppDir: String): String;
begin
  Result := '';
  if SameOrInside(DataFolder, AppDir) or SameOrInside(AppDir, DataFolder) then
    Result := FmtMessage(CustomMessage('DataOverlaps'), [AppDir, DataFolder]);
end;

function NextButtonClick(CurPageID: Integer): Boolean;
var
  Problem: String;
begin
  Result := True;
  if CurPageID = wpSelectDir then
  begin
    Problem := OverlapMessage(WizardDirValue);
    if Problem <> '' then
    begin
      MsgBox(Problem, mbError, MB_OK);
      Result := False;
    end;
  end;
end;

function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  { Also for /SILENT installs and an upgrade that skips the folder page. }
  Result := OverlapMessage(ExpandConstant('{app}'));
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DirExists(DataFolder) and not UninstallSilent then
    MsgBox(FmtMessage(CustomMessage('DataKept'), [DataFolder]), mbInformation, MB_OK);
end;
