package preferences

// CacheLen is the number of users s has cached.
func CacheLen(s *Service) int { return s.cache.len() }
