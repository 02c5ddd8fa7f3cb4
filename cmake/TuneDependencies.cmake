# Finds every third-party dependency once, as imported targets the folders link against.
# All of them come from Debian 12 packages (scripts/install-deps.sh); on the GPU machine the
# same names resolve through CMAKE_PREFIX_PATH set by .device-deps/remote-setup.sh.
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
# Debian's cpp-httplib is a compiled library built with OpenSSL, zlib and brotli support: its
# pkg-config flags must be used so that our view of its classes matches the library's.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

# LibTorch: Debian's 1.13 (CPU) here, pip's 2.x (CUDA) on the GPU machine.
find_package(Torch REQUIRED)
add_library(tune_torch INTERFACE)
target_link_libraries(tune_torch INTERFACE ${TORCH_LIBRARIES})
# Debian's package puts headers in /usr/include, which must stay a system include so that
# torch's own warnings do not trip -Werror on our targets.
target_include_directories(tune_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

if(TUNE_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# llama.cpp's libllama + ggml, static, from the release source inside node-llama-cpp@3.21.1
# (scripts/fetch-llama-cpp.sh unpacks it, scripts/build-llama-cpp.sh builds it into a cache outside
# the clone and prints the prefix). TUNE_LLAMA_PREFIX names that prefix; when it is not given the
# script runs now (instant when cached, ~4.5 minutes on 2 cores the first time).
set(TUNE_LLAMA_PREFIX "" CACHE PATH "llama.cpp install prefix from scripts/build-llama-cpp.sh")
if(NOT TUNE_LLAMA_PREFIX)
  execute_process(COMMAND ${PROJECT_SOURCE_DIR}/scripts/build-llama-cpp.sh
                  OUTPUT_VARIABLE llama_out RESULT_VARIABLE llama_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT llama_rc EQUAL 0)
    message(FATAL_ERROR "scripts/build-llama-cpp.sh failed; run it by hand to see why")
  endif()
  string(REGEX REPLACE ".*\n" "" llama_out "${llama_out}")
  set(TUNE_LLAMA_PREFIX "${llama_out}" CACHE PATH "llama.cpp install prefix" FORCE)
endif()
if(NOT EXISTS "${TUNE_LLAMA_PREFIX}/lib/libllama.a" OR NOT EXISTS "${TUNE_LLAMA_PREFIX}/.complete")
  message(FATAL_ERROR "TUNE_LLAMA_PREFIX=${TUNE_LLAMA_PREFIX} holds no llama.cpp build; "
                      "run scripts/build-llama-cpp.sh and pass the prefix it prints")
endif()
file(READ "${TUNE_LLAMA_PREFIX}/.complete" TUNE_LLAMA_COMMIT)
string(STRIP "${TUNE_LLAMA_COMMIT}" TUNE_LLAMA_COMMIT)
find_package(OpenMP REQUIRED COMPONENTS CXX)
set(llama_libs llama ggml ggml-cpu ggml-base)
set(llama_extra OpenMP::OpenMP_CXX Threads::Threads ${CMAKE_DL_LIBS} m)
if(EXISTS "${TUNE_LLAMA_PREFIX}/lib/libggml-cuda.a")  # TUNE_LLAMA_CUDA=1 build (docs/gpu.md)
  find_package(CUDAToolkit REQUIRED)
  list(INSERT llama_libs 2 ggml-cuda)
  list(APPEND llama_extra CUDA::cudart CUDA::cublas CUDA::cuda_driver)
endif()
set(llama_paths "")
foreach(lib IN LISTS llama_libs)
  list(APPEND llama_paths "${TUNE_LLAMA_PREFIX}/lib/lib${lib}.a")
endforeach()
add_library(tune_llama INTERFACE)
target_include_directories(tune_llama SYSTEM INTERFACE "${TUNE_LLAMA_PREFIX}/include")
# ggml's backend registry and its CPU backend refer to each other: link them as one group.
target_link_libraries(tune_llama INTERFACE "$<LINK_GROUP:RESCAN,${llama_paths}>" ${llama_extra})
target_compile_definitions(tune_llama INTERFACE TUNE_LLAMA_COMMIT="${TUNE_LLAMA_COMMIT}")
