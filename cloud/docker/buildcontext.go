package docker

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// buildContext is a prepared build context: what to tar and under which
// name the daemon finds the Dockerfile.
type buildContext struct {
	dir string
	// dockerfileName is the Dockerfile's path inside the tar (slash separated).
	dockerfileName string
	// dockerfilePath is where the Dockerfile is on disk, for messages.
	dockerfilePath string
	// externalDockerfile is set when the Dockerfile lives outside the context
	// dir; it is added to the tar under dockerfileName.
	externalDockerfile string
	ignore             []string // .dockerignore patterns
	pm                 *patternmatcher.PatternMatcher
}

// prepareContext checks the context dir and the Dockerfile and reads
// .dockerignore. Errors name the path so the user can fix it.
func prepareContext(contextDir, dockerfile string) (*buildContext, error) {
	if contextDir == "" {
		contextDir = "."
	}
	dir, err := filepath.Abs(contextDir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", contextDir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", contextDir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory", contextDir)
	}
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	df := dockerfile
	if !filepath.IsAbs(df) {
		df = filepath.Join(dir, df)
	}
	if st, err := os.Stat(df); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("dockerfile %s not found", df)
		}
		return nil, fmt.Errorf("dockerfile %s: %w", df, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("dockerfile %s is a directory", df)
	}
	bc := &buildContext{dir: dir, dockerfilePath: df}
	if rel, err := filepath.Rel(dir, df); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		bc.dockerfileName = filepath.ToSlash(rel)
	} else {
		// Outside the context: send it under a name nothing in the context
		// can have, and ignore it so COPY . never copies it.
		var b [8]byte
		_, _ = rand.Read(b[:])
		bc.dockerfileName = ".dockerfile." + hex.EncodeToString(b[:])
		bc.externalDockerfile = df
	}
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	default:
		bc.ignore, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, ".dockerignore"), err)
		}
	}
	if bc.pm, err = patternmatcher.New(bc.ignore); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ".dockerignore"), err)
	}
	return bc, nil
}

// alwaysSent reports whether rel must be in the tar whatever .dockerignore
// says: the daemon needs the Dockerfile and .dockerignore to build.
func (bc *buildContext) alwaysSent(rel string) bool {
	return rel == ".dockerignore" || rel == bc.dockerfileName
}

// writeTar writes the context to w, honouring .dockerignore.
func (bc *buildContext) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, 32<<10) // one copy buffer for every file
	parents := map[string]patternmatcher.MatchInfo{}
	err := filepath.WalkDir(bc.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading build context: %w", err)
		}
		rel, err := filepath.Rel(bc.dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		parent := parents[path.Dir(rel)]
		excluded, info, err := bc.pm.MatchesUsingParentResults(rel, parent)
		if err != nil {
			return fmt.Errorf(".dockerignore: %w", err)
		}
		if d.IsDir() {
			parents[rel] = info
		}
		if excluded && !bc.alwaysSent(rel) {
			// A directory can only be skipped when no "!" pattern could
			// re-include something below it.
			if d.IsDir() && !bc.pm.Exclusions() && !strings.HasPrefix(bc.dockerfileName, rel+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == ".dockerignore" && bc.externalDockerfile != "" {
			return nil // rewritten below with the external Dockerfile's name added
		}
		return addFile(tw, p, rel, d, buf)
	})
	if err != nil {
		return err
	}
	if bc.externalDockerfile != "" {
		if err := addFileAs(tw, bc.externalDockerfile, bc.dockerfileName); err != nil {
			return err
		}
		// The daemon drops the Dockerfile and .dockerignore from the context
		// only when .dockerignore lists them (as the docker CLI does).
		ign := strings.Join(append(append([]string{}, bc.ignore...), bc.dockerfileName, ".dockerignore"), "\n") + "\n"
		if err := tw.WriteHeader(&tar.Header{Name: ".dockerignore", Mode: 0o644, Size: int64(len(ign)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, ign); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, p, rel string, d fs.DirEntry, buf []byte) error {
	fi, err := d.Info()
	if err != nil {
		return fmt.Errorf("build context %s: %w", rel, err)
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return fmt.Errorf("build context %s: %w", rel, err)
		}
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 {
		return nil // sockets, devices, pipes cannot be part of an image context
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("build context %s: %w", rel, err)
	}
	hdr.Name = rel
	if fi.IsDir() {
		hdr.Name += "/"
	}
	// Ownership in the context is the builder's business (COPY --chown);
	// the host's uid/gid would only make builds differ between machines.
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("build context %s: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("build context %s: %w", rel, err)
	}
	defer f.Close()
	// The wrapper hides File.WriteTo, which would allocate a buffer per file.
	if _, err := io.CopyBuffer(tw, struct{ io.Reader }{f}, buf); err != nil {
		return fmt.Errorf("build context %s: %w", rel, err)
	}
	return nil
}

func addFileAs(tw *tar.Writer, p, name string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("dockerfile %s: %w", p, err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = tw.Write(b)
	return err
}
