package testimages

import "github.com/minik8s/minik8s/pkg/images"

// NginxName is the name the nginx stand-in is imported under.
const NginxName = "docker.io/library/nginx:latest"

const nginxIndex = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>This is the minik8s test stand-in for nginx: BusyBox httpd serving a static page.</p>
</body>
</html>
`

const nginx50x = `<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
</body>
</html>
`

// The stand-in's /usr/sbin/nginx ignores its arguments ("-g daemon off;") and
// runs busybox httpd in the foreground on port 80. It stays the parent instead
// of exec'ing httpd: as a container's PID 1, httpd has no handler for the stop
// signal and would wait out the grace period, while this shell traps it.
const nginxScript = `#!/bin/sh
# minik8s stand-in for nginx: busybox httpd on :80 serving /usr/share/nginx/html.
# Arguments are accepted and ignored; configuration files are not read.
trap 'kill $pid 2>/dev/null; exit 0' TERM INT QUIT
httpd -f -v -p 80 -h /usr/share/nginx/html &
pid=$!
wait $pid
`

// nginxImage is busybox with the stand-in script and nginx's default pages at
// nginx's paths. Upstream nginx stops on SIGQUIT; so does this.
func nginxImage(base *images.Layer) *images.Image {
	l := images.NewLayer()
	l.File("usr/sbin/nginx", 0o755, []byte(nginxScript))
	l.File("usr/share/nginx/html/index.html", 0o644, []byte(nginxIndex))
	l.File("usr/share/nginx/html/50x.html", 0o644, []byte(nginx50x))
	l.Dir("etc/nginx/conf.d", 0o755)
	l.Dir("var/log/nginx", 0o755)
	return &images.Image{
		Names: []string{NginxName},
		Config: images.Config{
			Cmd:          []string{"nginx", "-g", "daemon off;"},
			ExposedPorts: []string{"80"},
			StopSignal:   "SIGQUIT",
			Labels:       map[string]string{labelStandIn: "busybox httpd serving a static page, not nginx"},
		},
		Layers: []*images.Layer{base, l},
	}
}
