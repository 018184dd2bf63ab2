# Runs clang-format --dry-run -Werror over the tracked C++ sources (generated code excluded).
find_program(CLANG_FORMAT NAMES clang-format clang-format-14 REQUIRED)
file(GLOB_RECURSE sources
  ${SOURCE_DIR}/common/*.cc ${SOURCE_DIR}/common/*.h
  ${SOURCE_DIR}/oci/*.cc ${SOURCE_DIR}/oci/*.h
  ${SOURCE_DIR}/format/*.cc ${SOURCE_DIR}/format/*.h
  ${SOURCE_DIR}/registry/*.cc ${SOURCE_DIR}/registry/*.h
  ${SOURCE_DIR}/fuse/*.cc ${SOURCE_DIR}/fuse/*.h
  ${SOURCE_DIR}/snapshotter/*.cc ${SOURCE_DIR}/snapshotter/*.h
  ${SOURCE_DIR}/converter/*.cc ${SOURCE_DIR}/converter/*.h
  ${SOURCE_DIR}/test/*.cc ${SOURCE_DIR}/test/*.h)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${sources}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang-format: these sources need `clang-format -i`:\n${err}")
endif()
