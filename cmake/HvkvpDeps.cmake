# Finds hvkvp's dependencies; a missing one is a configure error that names
# the Debian package to install.
find_package(PkgConfig REQUIRED)

function(hvkvp_require_pkg var module debpkg)
  pkg_check_modules(${var} IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "hvkvp: ${module} not found: install the Debian package '${debpkg}' (apt-get install ${debpkg})")
  endif()
endfunction()

if(CMAKE_CROSSCOMPILING AND WIN32)
  # Windows guest build: zlib from libz-mingw-w64-dev, yajl cross-built from
  # Debian's source package by scripts/build-windows.sh (HVKVP_YAJL_ROOT).
  # The static archive by its file name: Windows-GNU prefers the import
  # library libz.dll.a, which would make the .exe need zlib1.dll.
  find_library(HVKVP_MINGW_ZLIB NAMES libz.a PATHS /usr/x86_64-w64-mingw32/lib)
  if(NOT HVKVP_MINGW_ZLIB)
    message(FATAL_ERROR "hvkvp: mingw libz.a not found: install the Debian package 'libz-mingw-w64-dev'")
  endif()
  add_library(hvkvp_zlib INTERFACE)
  target_link_libraries(hvkvp_zlib INTERFACE ${HVKVP_MINGW_ZLIB})
  if(NOT HVKVP_YAJL_ROOT)
    message(FATAL_ERROR "hvkvp: set HVKVP_YAJL_ROOT to a mingw build of yajl (scripts/build-windows.sh does this)")
  endif()
  add_library(hvkvp_yajl INTERFACE)
  target_include_directories(hvkvp_yajl INTERFACE ${HVKVP_YAJL_ROOT}/include)
  target_link_libraries(hvkvp_yajl INTERFACE ${HVKVP_YAJL_ROOT}/lib/libyajl_s.a)
  return()
endif()

hvkvp_require_pkg(YAJL yajl libyajl-dev)
hvkvp_require_pkg(ZLIB zlib zlib1g-dev)
add_library(hvkvp_yajl INTERFACE)
target_link_libraries(hvkvp_yajl INTERFACE PkgConfig::YAJL)
add_library(hvkvp_zlib INTERFACE)
target_link_libraries(hvkvp_zlib INTERFACE PkgConfig::ZLIB)

if(NOT HVKVP_GUEST_ONLY)
  hvkvp_require_pkg(LIBXML2 libxml-2.0 libxml2-dev)
  hvkvp_require_pkg(CURL libcurl libcurl4-openssl-dev)
  find_path(COLLECTD_INCLUDE_DIR collectd/core/daemon/plugin.h
            PATHS /usr/include /usr/local/include)
  if(NOT COLLECTD_INCLUDE_DIR)
    message(FATAL_ERROR "hvkvp: collectd plugin headers not found: install the Debian package 'collectd-dev'")
  endif()
  set(COLLECTD_INCLUDE_DIR ${COLLECTD_INCLUDE_DIR}/collectd)
endif()

if(HVKVP_TESTS AND NOT CMAKE_CROSSCOMPILING)
  hvkvp_require_pkg(CMOCKA cmocka libcmocka-dev)
endif()
