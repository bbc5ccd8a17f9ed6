# contrib/mingw-w64-x86_64.cmake - CMake toolchain file for cross-building
# the Windows guest side (hvkvp-reporter.exe) with Debian's mingw-w64
# (gcc-mingw-w64-x86-64). Executables are linked statically (-static) so
# they run on Windows and under Wine without any extra DLLs.
#   cmake -DCMAKE_TOOLCHAIN_FILE=contrib/mingw-w64-x86_64.cmake \
#         -DHVKVP_GUEST_ONLY=ON -DHVKVP_TESTS=OFF -DHVKVP_YAJL_ROOT=<dir> ...
# (scripts/build-windows.sh does all of this.)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(HVKVP_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${HVKVP_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${HVKVP_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${HVKVP_MINGW_TRIPLE}-ar CACHE FILEPATH "mingw ar")
set(CMAKE_RANLIB ${HVKVP_MINGW_TRIPLE}-ranlib CACHE FILEPATH "mingw ranlib")

set(CMAKE_FIND_ROOT_PATH /usr/${HVKVP_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Prefer static archives (libz.a over the import library libz.dll.a).
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)

# Windows 7+ API level (GetTickCount64, GetIfTable2 need Vista+); C99
# printf/scanf (%zu, %lld, %a) instead of msvcrt's. With mingw, gcc checks
# format(printf) attributes against msvcrt's printf and rejects %zu even
# though __USE_MINGW_ANSI_STDIO makes the runtime C99: -Wno-format here
# (the native build checks the same format strings).
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0601 -DWINVER=0x0601 \
-D__USE_MINGW_ANSI_STDIO=1 -Wno-format")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")

# Wine runs the cross-built executables (ctest, try_run).
find_program(HVKVP_WINE wine)
if(HVKVP_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${HVKVP_WINE})
endif()
