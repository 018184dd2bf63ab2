# The lazy-pull client (containerd gRPC client + `tidectl pull`). Kept in its own file so the
# converter's CMakeLists.txt only needs `include(pull.cmake)` and `tide_pull` in tidectl's links;
# tests include it directly while tidectl is not built here.
if(NOT TARGET tide_pull)
  add_library(tide_pull STATIC
    ${CMAKE_CURRENT_LIST_DIR}/containerd_client.cc
    ${CMAKE_CURRENT_LIST_DIR}/content_writer.cc
    ${CMAKE_CURRENT_LIST_DIR}/pull_plan.cc
    ${CMAKE_CURRENT_LIST_DIR}/snapshot_labels.cc
    ${CMAKE_CURRENT_LIST_DIR}/lazy_puller.cc
    ${CMAKE_CURRENT_LIST_DIR}/pull_progress.cc
    ${CMAKE_CURRENT_LIST_DIR}/pull_command.cc)
  target_include_directories(tide_pull PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(tide_pull PUBLIC tide_containerd_proto tide_registry tide_oci tide_common CLI11::CLI11
                                         absl::status absl::statusor absl::strings absl::str_format absl::time)
  tide_warnings(tide_pull)
endif()
