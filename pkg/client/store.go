package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// FileStore keeps each user's position in a small JSON file of a
// directory. Saves replace the file atomically (write, then rename) but do
// not fsync: after a power loss a position may be older than the last
// notification handed over, which costs duplicates on the next resume,
// never a loss.
type FileStore struct {
	dir string
	mu  sync.Mutex
}

var _ Store = (*FileStore)(nil)

// NewFileStore returns a FileStore in dir, which it creates when needed.
func NewFileStore(dir string) *FileStore { return &FileStore{dir: dir} }

func (f *FileStore) path(user int64) string {
	return filepath.Join(f.dir, strconv.FormatInt(user, 10)+".json")
}

// Load reads user's position; ok is false when none was saved (or the
// file is unreadable as a position).
func (f *FileStore) Load(user int64) (Position, bool, error) {
	b, err := os.ReadFile(f.path(user))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, err
	}
	var p Position
	if json.Unmarshal(b, &p) != nil || p.Seq < 0 {
		return Position{}, false, nil
	}
	return p, true, nil
}

// Save writes user's position.
func (f *FileStore) Save(user int64, p Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	tmp := f.path(user) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path(user))
}

// MemoryStore keeps positions in memory (for tests and short-lived
// processes that hand a position from one Client to the next).
type MemoryStore struct {
	mu  sync.Mutex
	pos map[int64]Position
}

var _ Store = (*MemoryStore)(nil)

// Load returns user's position.
func (m *MemoryStore) Load(user int64) (Position, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pos[user]
	return p, ok, nil
}

// Save records user's position.
func (m *MemoryStore) Save(user int64, p Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos == nil {
		m.pos = map[int64]Position{}
	}
	m.pos[user] = p
	return nil
}

// tokenUser is the user a gateway JWT names (its subject), read without
// verifying it: only to find the user's stored position before the
// handshake. 0 when the token does not say.
func tokenUser(token string) int64 {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return 0
	}
	id, err := strconv.ParseInt(claims.Sub, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// learnUser records the user once it is known (options, a token, the
// connected frame) and takes its stored position, if the store has one.
func (c *Client) learnUser(user int64) error {
	c.mu.Lock()
	if user <= 0 || c.user != 0 {
		c.mu.Unlock()
		return nil
	}
	c.user = user
	c.mu.Unlock()
	if c.opts.Store == nil {
		return nil
	}
	p, ok, err := c.opts.Store.Load(user)
	if err != nil {
		return fmt.Errorf("client: load position: %w", err)
	}
	if ok {
		c.mu.Lock()
		c.pos, c.known = p, true
		c.mu.Unlock()
	}
	return nil
}
