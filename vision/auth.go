package vision

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// checkKey checks the request's API key when the server has keys: 401
// without one, 403 with a wrong one. Keys are compared as SHA-256 digests
// in constant time, against every key, so the time taken says nothing
// about the key or how much of it matched.
func (s *Server) checkKey(r *http.Request) error {
	if len(s.keys) == 0 {
		return nil
	}
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" {
		s.metrics.count(s.metrics.rejected, "unauthenticated")
		return unauthenticatedf("this server needs an API key: send it as ?key=KEY or in the X-Goog-Api-Key header")
	}
	got := sha256.Sum256([]byte(key))
	ok := 0
	for _, k := range s.keys {
		ok |= subtle.ConstantTimeCompare(got[:], k[:])
	}
	if ok != 1 {
		s.metrics.count(s.metrics.rejected, "bad_key")
		return deniedf("API key not valid: check the key sent in ?key= or X-Goog-Api-Key")
	}
	return nil
}
