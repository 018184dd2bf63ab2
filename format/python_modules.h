#ifndef TIDE_FORMAT_PYTHON_MODULES_H_
#define TIDE_FORMAT_PYTHON_MODULES_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tide::format {

// The identifiers a compiled Python module (a .pyc, as CPython 3.4 and later write it) holds as short
// marshalled ASCII strings, in the order they first appear: among them the names its import
// statements bind and load, so a package's compiled __init__ names the submodules it imports next.
// A guess by design: the body is scanned byte by byte for the marshal codes of short ASCII strings
// (interned or not, with or without the reference flag), not parsed, so a name that bytecode bytes
// happen to spell may be among them and one that marshal stored otherwise is missed. Each name is a
// Python identifier of 1 to 64 bytes, at most `max_names` distinct ones. Input that does not start
// with a pyc header (two magic bytes, then "\r\n", 16 bytes in all) gives none: it is an image
// author's.
std::vector<std::string> PycNames(std::span<const char> pyc, size_t max_names);

// Whether CPython imports a file of this name as an extension module: one of its
// EXTENSION_SUFFIXES (".cpython-*.so", ".abi3.so"), less a bare ".so", which shared libraries also
// end in.
bool IsExtensionModule(std::string_view file_name);

// Whether `file_name` is that of a package's compiled __init__ ("__init__.<tag>.pyc", where the
// importer looks for it in `__pycache__`); if so, sets `tag` to the part between (e.g.
// "cpython-311", "cpython-311.opt-1"), which the package's other compiled modules share.
bool IsCompiledInit(std::string_view file_name, std::string_view* tag);

}  // namespace tide::format

#endif  // TIDE_FORMAT_PYTHON_MODULES_H_
