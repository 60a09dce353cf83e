package app

// ClusterStats is the cluster as the live nodes report it.
type ClusterStats struct {
	TotalConnections int         `json:"total_connections"`
	OnlineUsers      int         `json:"online_users"` // distinct users over all nodes
	Nodes            []NodeStats `json:"nodes"`        // sorted by NodeID
}

// NodeStats is one live node's last heartbeat.
type NodeStats struct {
	NodeID      string            `json:"node_id"`
	Connections int               `json:"connections"`
	Users       int               `json:"users"`
	StartedAt   int64             `json:"started_at"`   // unix seconds
	HeartbeatAt int64             `json:"heartbeat_at"` // unix ms
	Extra       map[string]string `json:"extra,omitempty"`
}

// Disconnected is what disconnecting a user on every node did.
type Disconnected struct {
	Closed     int // sessions closed, summed over the nodes that answered
	Nodes      int // nodes that answered
	Unanswered int // nodes that received the message but did not answer in time
}
