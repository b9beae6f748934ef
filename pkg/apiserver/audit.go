package apiserver

// isLongRunning reports requests whose response streams (watches, exec, attach,
// port-forward, proxies, followed logs): their audit log records ResponseStarted
// when the headers go out, as upstream's does.
func isLongRunning(info *requestInfo) bool {
	if info.Verb == "watch" || info.Verb == "connect" {
		return true
	}
	switch info.Subresource {
	case "exec", "attach", "portforward", "proxy", "log":
		return true
	}
	return false
}
