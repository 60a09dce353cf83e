package ws

// StateMoves lists, by state name, the states each may move to.
func StateMoves() map[string][]string {
	out := map[string][]string{}
	for s := subscribing; s <= closed; s++ {
		var to []string
		for t := subscribing; t <= closed; t++ {
			if s.may(t) {
				to = append(to, t.String())
			}
		}
		out[s.String()] = to
	}
	return out
}
