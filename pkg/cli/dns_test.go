package cli

import (
	"io"
	"strings"
	"testing"
)

func TestDNSCommandRefusesBadAddressesBeforeStarting(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "a listen address without a port", args: []string{"--listen", "127.0.0.1"}, want: `--listen "127.0.0.1": want IP:PORT`},
		{name: "a listen address that is a host name", args: []string{"--listen", "localhost:53"}, want: `--listen "localhost:53": want IP:PORT`},
		{name: "a cluster DNS address that is not an IP", args: []string{"--listen", "127.0.0.1:0", "--cluster-dns", "kube-dns"}, want: `--cluster-dns "kube-dns"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newDNSCommand()
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
