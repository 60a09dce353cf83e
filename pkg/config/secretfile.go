package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CreateSecretFile writes size random bytes in hex to path, mode 0600,
// unless path exists: a file for a secret's _FILE variable. The file
// appears whole or not at all: it is written under a temporary name and
// linked into place, which fails when another process won.
func CreateSecretFile(path string, size int) (created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		if strings.TrimSpace(string(b)) == "" {
			return false, fmt.Errorf("%s exists but is empty: remove it to have a new secret generated", path)
		}
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	raw := make([]byte, size)
	if _, err := rand.Read(raw); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*") // mode 0600
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // written meanwhile by another process
		}
		return false, err
	}
	return true, nil
}
