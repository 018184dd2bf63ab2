// Command go_tar_list lists a tar archive the way containerd's unpacker reads it: with Go's
// archive/tar, skipping PAX global headers (containerd ignores them), taking xattrs from the
// entry's SCHILY.xattr PAX records. One line per entry in the format of tar_listing.cc, then "END",
// or "ERROR <reason>" where archive/tar fails.
//
// Usage: go_tar_list ARCHIVE
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

const xattrPrefix = "SCHILY.xattr."

// escape keeps printable ASCII other than '%' and '\\' and writes every other byte as %XX, so a
// listing is one line of space-separated fields whatever the archive holds.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > 0x20 && c < 0x7f && c != '%' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeReg:
		return "reg"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeChar:
		return "char"
	case tar.TypeBlock:
		return "block"
	case tar.TypeDir:
		return "dir"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("other-%02x", flag)
}

// cleanPath is the entry's path relative to the layer root, as containerd cleans it; "" is the root.
func cleanPath(name string) string {
	p := path.Clean(name)
	if p == "." {
		return ""
	}
	return p
}

func line(hdr *tar.Header, size int64, digest string) string {
	fields := []string{
		typeName(hdr.Typeflag),
		"name=" + escape(hdr.Name),
		"path=" + escape(cleanPath(hdr.Name)),
		fmt.Sprintf("mode=%o", hdr.Mode&07777),
		fmt.Sprintf("uid=%d", hdr.Uid),
		fmt.Sprintf("gid=%d", hdr.Gid),
		"uname=" + escape(hdr.Uname),
		"gname=" + escape(hdr.Gname),
		fmt.Sprintf("mtime=%d.%09d", hdr.ModTime.Unix(), hdr.ModTime.Nanosecond()),
		fmt.Sprintf("size=%d", size),
		"sha256=" + digest,
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		fields = append(fields, "link="+escape(hdr.Linkname))
	case tar.TypeLink:
		fields = append(fields, "link="+escape(cleanPath(hdr.Linkname)))
	case tar.TypeChar, tar.TypeBlock:
		fields = append(fields, fmt.Sprintf("dev=%d,%d", hdr.Devmajor, hdr.Devminor))
	}
	var xattrs []string
	for k, v := range hdr.PAXRecords {
		if strings.HasPrefix(k, xattrPrefix) {
			xattrs = append(xattrs, "xattr="+escape(k[len(xattrPrefix):])+":"+escape(v))
		}
	}
	sort.Strings(xattrs)
	return strings.Join(append(fields, xattrs...), " ")
}

func list(r io.Reader, out io.Writer) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		var size int64
		digest := "-"
		if hdr.Typeflag == tar.TypeReg {
			h := sha256.New()
			if size, err = io.Copy(h, tr); err != nil {
				return err
			}
			digest = hex.EncodeToString(h.Sum(nil))
		}
		fmt.Fprintln(out, line(hdr, size, digest))
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_tar_list ARCHIVE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	if err := list(f, os.Stdout); err != nil {
		fmt.Println("ERROR " + escape(err.Error()))
		return
	}
	fmt.Println("END")
}
