# cairn-watch-fanout (watch_fanout.cc); include()d from bench/CMakeLists.txt.
add_executable(cairn-watch-fanout ${CMAKE_CURRENT_LIST_DIR}/watch_fanout.cc)
cairn_warnings(cairn-watch-fanout)
target_link_libraries(cairn-watch-fanout PRIVATE cairn_proto_grpc)
