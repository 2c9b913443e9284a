<#
.SYNOPSIS
  Installs (or reinstalls) the hostward agent as a Windows service with WinSW.

.DESCRIPTION
  Run in an elevated PowerShell from the folder holding this script:
    .\install-service.ps1 -InstallDir 'C:\Program Files\hostward' -WinSW .\WinSW-x64.exe
  Expects hostward installed in <InstallDir>\python (a Python environment where
  `pip install hostward` put Scripts\hostward.exe). Creates %ProgramData%\hostward, readable
  only by SYSTEM and Administrators, writes the default config there if none exists, checks it,
  registers and starts the service.
#>
[CmdletBinding()]
param(
    [string]$InstallDir = "$env:ProgramFiles\hostward",
    [Parameter(Mandatory = $true)][string]$WinSW
)
$ErrorActionPreference = 'Stop'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script in an elevated PowerShell (as Administrator).'
}

$hostward = Join-Path $InstallDir 'python\Scripts\hostward.exe'
if (-not (Test-Path $hostward)) { throw "hostward not found at $hostward" }

# State and config: private to SYSTEM and Administrators (secrets files live here too).
$data = Join-Path $env:ProgramData 'hostward'
New-Item -ItemType Directory -Force -Path $data, (Join-Path $data 'logs') | Out-Null
& icacls.exe $data /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed on $data" }

$config = Join-Path $data 'hostward.yaml'
if (-not (Test-Path $config)) {
    & $hostward config default | Set-Content -Encoding utf8 -Path $config
}
& $hostward config validate -c $config
if ($LASTEXITCODE -ne 0) { throw "fix $config first (see the problems above)" }

# WinSW finds its XML next to its executable, under the same base name.
$exe = Join-Path $InstallDir 'hostward-service.exe'
Copy-Item -Force $WinSW $exe
Copy-Item -Force (Join-Path $PSScriptRoot 'hostward-service.xml') (Join-Path $InstallDir 'hostward-service.xml')

if (Get-Service -Name hostward -ErrorAction SilentlyContinue) {
    & $exe stop | Out-Null
    & $exe uninstall
}
& $exe install
if ($LASTEXITCODE -ne 0) { throw 'WinSW could not install the service' }
& $exe start
Get-Service -Name hostward
