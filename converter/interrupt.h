#ifndef TIDE_CONVERTER_INTERRUPT_H_
#define TIDE_CONVERTER_INTERRUPT_H_

namespace tide::converter {

// Turns SIGINT/SIGTERM into a flag that long-running work polls, so an interrupted conversion
// unwinds normally and its RAII owners remove temp blobs and files. A second signal exits at once.
// Call before starting any thread (threads inherit the blocked signal mask).
void InstallInterruptHandler();
bool InterruptRequested();

}  // namespace tide::converter

#endif  // TIDE_CONVERTER_INTERRUPT_H_
