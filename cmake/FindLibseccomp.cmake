# Finds libseccomp (headers and the shared library) for the JNI library, which links it
# dynamically. The helper never links it (it only installs BPF that the JNI library compiled).
#
# Result: Libseccomp_FOUND, Libseccomp_VERSION, Libseccomp_INCLUDE_DIRS, Libseccomp_LIBRARIES
# and the imported target Libseccomp::Libseccomp.
include(FindPackageHandleStandardArgs)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Libseccomp QUIET libseccomp)
endif()

find_path(Libseccomp_INCLUDE_DIR
  NAMES seccomp.h
  HINTS ${PC_Libseccomp_INCLUDEDIR} ${PC_Libseccomp_INCLUDE_DIRS})
# Only the shared library: a static libseccomp.a would end up inside libstockade.so and hide
# the system's security updates to libseccomp from users.
find_library(Libseccomp_LIBRARY
  NAMES libseccomp.so seccomp
  NAMES_PER_DIR
  HINTS ${PC_Libseccomp_LIBDIR} ${PC_Libseccomp_LIBRARY_DIRS})

if(Libseccomp_INCLUDE_DIR AND EXISTS "${Libseccomp_INCLUDE_DIR}/seccomp.h")
  file(STRINGS "${Libseccomp_INCLUDE_DIR}/seccomp.h" _stk_seccomp_ver
       REGEX "^#define[ \t]+SCMP_VER_(MAJOR|MINOR|MICRO)[ \t]+[0-9]+")
  foreach(_stk_part MAJOR MINOR MICRO)
    string(REGEX REPLACE ".*SCMP_VER_${_stk_part}[ \t]+([0-9]+).*" "\\1"
           _stk_seccomp_${_stk_part} "${_stk_seccomp_ver}")
  endforeach()
  set(Libseccomp_VERSION
      "${_stk_seccomp_MAJOR}.${_stk_seccomp_MINOR}.${_stk_seccomp_MICRO}")
endif()

find_package_handle_standard_args(Libseccomp
  REQUIRED_VARS Libseccomp_LIBRARY Libseccomp_INCLUDE_DIR
  VERSION_VAR Libseccomp_VERSION
  REASON_FAILURE_MESSAGE
    "libseccomp headers and shared library are needed to build libstockade.so: install libseccomp-dev (Debian/Ubuntu: scripts/install-build-deps, or apt-get install libseccomp-dev, Fedora: dnf install libseccomp-devel)")

if(Libseccomp_FOUND)
  set(Libseccomp_INCLUDE_DIRS "${Libseccomp_INCLUDE_DIR}")
  set(Libseccomp_LIBRARIES "${Libseccomp_LIBRARY}")
  if(NOT TARGET Libseccomp::Libseccomp)
    add_library(Libseccomp::Libseccomp UNKNOWN IMPORTED)
    set_target_properties(Libseccomp::Libseccomp PROPERTIES
      IMPORTED_LOCATION "${Libseccomp_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${Libseccomp_INCLUDE_DIR}")
  endif()
endif()

mark_as_advanced(Libseccomp_INCLUDE_DIR Libseccomp_LIBRARY)
