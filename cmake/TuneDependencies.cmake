# Finds every third-party dependency once, as imported targets the folders link against.
# All of them come from Debian 12 packages (scripts/install-deps.sh); on the GPU machine the
# same names resolve through CMAKE_PREFIX_PATH set by .device-deps/remote-setup.sh.
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)

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
