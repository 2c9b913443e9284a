/* A stand-in for restic.exe in the Wine tests (built by tests/windows/standin.py with mingw-w64).
 *
 * It appends to standin.log next to itself (UTF-8; hostward passes restic only a chosen
 * environment, so the log's place cannot come from a variable): one "arg:" line per argument,
 * one "env:" line per RESTIC_* variable NAME (never a value), and "pwfile:" with the value of
 * RESTIC_PASSWORD_FILE (a path, not a secret), then "end". It answers like restic 0.16 would:
 * `version`, `snapshots --json` ([]), `backup --json` (a summary line), anything else "{}". */
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

static void put(FILE *log, const char *tag, const wchar_t *text, size_t len) {
    char buf[8192];
    int n = WideCharToMultiByte(CP_UTF8, 0, text, (int)len, buf, sizeof buf - 1, NULL, NULL);
    buf[n > 0 ? n : 0] = 0;
    fprintf(log, "%s%s\n", tag, buf);
}

int wmain(int argc, wchar_t **argv) {
    wchar_t path[MAX_PATH + 16];
    DWORD len = GetModuleFileNameW(NULL, path, MAX_PATH);
    wchar_t *slash = wcsrchr(path, L'\\');
    FILE *log = NULL;
    if (len > 0 && len < MAX_PATH && slash) {
        wcscpy(slash + 1, L"standin.log");
        log = _wfopen(path, L"ab");
    }
    const wchar_t *command = L"";
    for (int i = 1; i < argc; i++) {
        if (log) put(log, "arg:", argv[i], wcslen(argv[i]));
        if (!*command && argv[i][0] != L'-') command = argv[i];
    }
    wchar_t *block = GetEnvironmentStringsW();
    for (wchar_t *var = block; var && *var; var += wcslen(var) + 1) {
        const wchar_t *eq = wcschr(var + 1, L'=');
        if (!eq || _wcsnicmp(var, L"RESTIC_", 7) != 0) continue;
        if (log) put(log, "env:", var, (size_t)(eq - var));
        if (log && _wcsnicmp(var, L"RESTIC_PASSWORD_FILE=", 21) == 0) put(log, "pwfile:", eq + 1, wcslen(eq + 1));
    }
    if (block) FreeEnvironmentStringsW(block);
    if (log) { fputs("end\n", log); fclose(log); }
    if (wcscmp(command, L"version") == 0) {
        puts("restic 0.16.4 compiled with go1.21.8 on windows/amd64");
    } else if (wcscmp(command, L"snapshots") == 0) {
        puts("[]");
    } else if (wcscmp(command, L"backup") == 0) {
        puts("{\"message_type\":\"summary\",\"files_new\":1,\"files_changed\":0,\"files_unmodified\":0,"
             "\"dirs_new\":1,\"dirs_changed\":0,\"dirs_unmodified\":0,\"data_blobs\":1,\"tree_blobs\":1,"
             "\"data_added\":120,\"total_files_processed\":1,\"total_bytes_processed\":120,"
             "\"total_duration\":0.25,\"snapshot_id\":\"5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7\"}");
    } else {
        puts("{}");
    }
    return 0;
}
