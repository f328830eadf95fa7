package postgres

// MaxConns is the size of the store's connection pool.
func (s *Store) MaxConns() int32 { return s.d.pool.Config().MaxConns }
