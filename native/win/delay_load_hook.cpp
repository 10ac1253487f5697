// Windows only. Node-API functions are imported from "node.exe" (the import library is made from
// node-api-headers' def/node_api.def), but in the desktop app the host process is the Electron
// executable. node.exe is delay-loaded and this hook answers with the host process itself, as
// node-gyp's win_delay_load_hook does, so one addon loads in Node and in Electron.
#ifdef _WIN32
#include <windows.h>

#include <delayimp.h>
#include <string.h>

static FARPROC WINAPI llava_desk_load_exe_hook(unsigned int event, DelayLoadInfo *info) {
    if (event != dliNotePreLoadLibrary) return nullptr;
    if (_stricmp(info->szDll, "node.exe") != 0) return nullptr;
    return reinterpret_cast<FARPROC>(GetModuleHandle(nullptr));
}

extern "C" const PfnDliHook __pfnDliNotifyHook2 = llava_desk_load_exe_hook;
#endif
