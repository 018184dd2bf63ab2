# Runs clang-format --dry-run -Werror over the tracked C++ sources (generated code excluded).
find_program(CLANG_FORMAT NAMES clang-format clang-format-14 REQUIRED)
# Every component folder (the same list as the top-level CMakeLists.txt) and test/.
set(folders common oci format registry cache fetch fuse layer profile snapshotter converter containerd_client pull
            tidectl test)
set(patterns)
foreach(folder ${folders})
  list(APPEND patterns ${SOURCE_DIR}/${folder}/*.cc ${SOURCE_DIR}/${folder}/*.h)
endforeach()
file(GLOB_RECURSE sources ${patterns})
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${sources}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang-format: these sources need `clang-format -i`:\n${err}")
endif()
