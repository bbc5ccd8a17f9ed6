# tests/reporter/reporter_windows.cmake - registers the Windows guest path
# test (label integration), included from tests/reporter/CMakeLists.txt.
# A setup fixture cross-builds hvkvp-reporter.exe with
# scripts/build-windows.sh into <build>/win (its own tree, so parallel native
# builds do not share one cross build); test_reporter_windows.py then runs
# the .exe under Wine and decodes what it wrote with hvkvp-codec.
set(HVKVP_WIN_TEST_BUILD ${CMAKE_BINARY_DIR}/win)

add_test(NAME reporter_windows_build
         COMMAND ${CMAKE_SOURCE_DIR}/scripts/build-windows.sh
                 ${HVKVP_WIN_TEST_BUILD})
set_tests_properties(reporter_windows_build PROPERTIES
                     LABELS integration
                     FIXTURES_SETUP hvkvp_win_exe
                     TIMEOUT 900)

add_test(NAME reporter_windows
         COMMAND ${HVKVP_PYTHON}
                 ${CMAKE_CURRENT_SOURCE_DIR}/test_reporter_windows.py)
set_tests_properties(reporter_windows PROPERTIES
                     LABELS integration
                     FIXTURES_REQUIRED hvkvp_win_exe
                     TIMEOUT 900
                     ENVIRONMENT
                     "HVKVP_WIN_BUILD_DIR=${HVKVP_WIN_TEST_BUILD};HVKVP_CODEC=$<TARGET_FILE:hvkvp-codec>;PYTHONDONTWRITEBYTECODE=1")
