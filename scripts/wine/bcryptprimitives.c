/* A stand-in for Windows' bcryptprimitives.dll, which wine 8 lacks and Rust's std imports for ProcessPrng
 * (its random source since Rust 1.78). Used only to run the test exe under wine in scripts/cross-check.sh;
 * never shipped. Build: x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32 */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
