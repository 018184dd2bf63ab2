# tide_warnings(target): the project's warning set; errors when TIDE_WERROR is on (CI).
function(tide_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)
  if(TIDE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
