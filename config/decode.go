package config

import (
	"net"
	"strconv"
	"strings"
)

// Helpers that read typed values out of a value tree, reporting a problem
// (and returning ok=false) when the value has the wrong shape. "what" is the
// key path shown to the user ("logs.buffer_lines").

// mapping returns v's fields by key after reporting keys not in allowed.
// A null value is an empty mapping: "aws:" with nothing under it is fine.
func (c *collector) mapping(v *value, what string, allowed []string) (map[string]*field, bool) {
	if v.kind == kindNull {
		return map[string]*field{}, true
	}
	if v.kind != kindMap {
		if what == "" {
			c.add(v.pos, "expected a mapping of settings at the top level, got %s", v.describe())
		} else {
			c.add(v.pos, "%s: expected a mapping, got %s", what, v.describe())
		}
		return nil, false
	}
	out := make(map[string]*field, len(v.fields))
	for _, f := range v.fields {
		if !contains(allowed, f.key) {
			in := ""
			if what != "" {
				in = " in " + what
			}
			c.add(f.keyPos, "unknown key %q%s%s; known keys: %s", f.key, in, suggest(f.key, allowed), strings.Join(allowed, ", "))
			continue
		}
		out[f.key] = f
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar as text. Numbers and booleans are accepted as their
// text (a project called 12345 is still a string to us).
func (c *collector) str(v *value, what string) (string, bool) {
	if v.kind != kindScalar {
		c.add(v.pos, "%s: expected a string, got %s", what, v.describe())
		return "", false
	}
	return v.text, true
}

// integer reads a whole number, written as a YAML integer or as text.
func (c *collector) integer(v *value, what string) (int64, bool) {
	if v.kind == kindScalar {
		if n, err := strconv.ParseInt(strings.ReplaceAll(v.text, "_", ""), 0, 64); err == nil {
			return n, true
		}
	}
	c.add(v.pos, "%s: expected a whole number, got %s", what, v.describe())
	return 0, false
}

// boolean reads true/false (also yes/no/on/off/1/0 from text, as people
// write them in environment variables).
func (c *collector) boolean(v *value, what string) (bool, bool) {
	if v.kind == kindScalar {
		switch strings.ToLower(v.text) {
		case "true", "yes", "on", "1":
			return true, true
		case "false", "no", "off", "0":
			return false, true
		}
	}
	c.add(v.pos, "%s: expected true or false, got %s", what, v.describe())
	return false, false
}

// list reads a list of strings. A single string is split at commas, which
// is how lists arrive from environment variables and also reads naturally
// in YAML ("regions: eu-west-1, us-east-1").
func (c *collector) list(v *value, what string) ([]*value, bool) {
	switch v.kind {
	case kindNull:
		return nil, true
	case kindList:
		ok := true
		for _, it := range v.items {
			if it.kind != kindScalar {
				c.add(it.pos, "%s: expected a list of strings, found %s in it", what, it.describe())
				ok = false
			}
		}
		return v.items, ok
	case kindScalar:
		var out []*value
		for _, part := range strings.Split(v.text, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, &value{pos: v.pos, kind: kindScalar, text: part})
			}
		}
		return out, true
	}
	c.add(v.pos, "%s: expected a list of strings, got %s", what, v.describe())
	return nil, false
}

// enum reads one of the allowed words.
func (c *collector) enum(v *value, what string, allowed []string) (string, bool) {
	s, ok := c.str(v, what)
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		c.add(v.pos, "%s: %q is not one of %s%s", what, s, strings.Join(allowed, ", "), suggest(s, allowed))
		return "", false
	}
	return s, true
}

// endpoint reads host:port with a numeric port in range.
func (c *collector) endpoint(v *value, what string) (string, bool) {
	s, ok := c.str(v, what)
	if !ok {
		return "", false
	}
	if strings.Contains(s, "://") {
		c.add(v.pos, "%s: %q is a URL; give host:port only (like 127.0.0.1:8085)", what, s)
		return "", false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		c.add(v.pos, "%s: %q is not host:port (like 127.0.0.1:8085)", what, s)
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		c.add(v.pos, "%s: port %q in %q is not a number from 1 to 65535", what, port, s)
		return "", false
	}
	return s, true
}

// byteSize reads a size in bytes: a whole number, or a number with a unit.
// KiB/MiB/GiB (and K/M/G) are powers of 1024, KB/MB/GB powers of 1000.
func (c *collector) byteSize(v *value, what string) (int64, bool) {
	if v.kind == kindScalar {
		if n, ok := parseSize(v.text); ok {
			return n, true
		}
	}
	c.add(v.pos, "%s: expected a size in bytes like 67108864 or \"64MiB\", got %s", what, v.describe())
	return 0, false
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first so "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

func parseSize(s string) (int64, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, false
	}
	if n != 0 && (n > (1<<62)/mult || n < -(1<<62)/mult) {
		return 0, false
	}
	return n * mult, true
}
