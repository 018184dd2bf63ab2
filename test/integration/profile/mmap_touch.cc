// Runs inside an optimize sandbox: maps FILE and reads one byte of COUNT pages spread evenly over it,
// as a process does with a large shared library or model file it only partly uses. Static, so it
// needs nothing from the test image.
// Usage: mmap_touch FILE COUNT
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mmap_touch FILE COUNT\n");
    return 2;
  }
  const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size <= 0) {
    std::perror(argv[1]);
    return 1;
  }
  const long count = std::strtol(argv[2], nullptr, 10);
  const auto size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  const auto* bytes = static_cast<const volatile unsigned char*>(map);
  unsigned sum = 0;
  for (long i = 0; i < count; ++i) {
    const size_t page = size / 4096 * static_cast<size_t>(i) / static_cast<size_t>(count);
    sum += bytes[page * 4096 + 100];
  }
  std::printf("touched %ld pages, sum %u\n", count, sum);
  return 0;
}
