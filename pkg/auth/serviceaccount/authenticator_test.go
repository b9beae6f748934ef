package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAuthenticatorExtra(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(key, Issuer)
	if err != nil {
		t.Fatal(err)
	}
	live := func(uids map[string]string) Lookup {
		return func(_ context.Context, _, name string) (string, error) {
			if uid, ok := uids[name]; ok {
				return uid, nil
			}
			return "", errors.New("not found")
		}
	}
	a := &Authenticator{Signer: signer,
		ServiceAccount: live(map[string]string{"default": "sa-uid"}),
		Pod:            live(map[string]string{"web": "pod-uid"}),
		Node:           live(map[string]string{"vm": "node-uid"}),
	}
	sa := Ref{Name: "default", UID: "sa-uid"}
	cases := []struct {
		name  string
		bound Binding
		ok    bool
		extra map[string][]string // without credential-id
	}{
		{name: "an unbound token carries only its credential id", ok: true, extra: map[string][]string{}},
		{name: "a pod's token names the pod and the node it runs on", ok: true,
			bound: Binding{Pod: &Ref{Name: "web", UID: "pod-uid"}, Node: &Ref{Name: "vm", UID: "node-uid"}},
			extra: map[string][]string{
				"authentication.kubernetes.io/pod-name": {"web"}, "authentication.kubernetes.io/pod-uid": {"pod-uid"},
				"authentication.kubernetes.io/node-name": {"vm"}, "authentication.kubernetes.io/node-uid": {"node-uid"},
			}},
		{name: "a pod's token whose node object was missing names the node without a uid", ok: true,
			bound: Binding{Pod: &Ref{Name: "web", UID: "pod-uid"}, Node: &Ref{Name: "gone"}},
			extra: map[string][]string{
				"authentication.kubernetes.io/pod-name": {"web"}, "authentication.kubernetes.io/pod-uid": {"pod-uid"},
				"authentication.kubernetes.io/node-name": {"gone"},
			}},
		{name: "a node-bound token of a live node is accepted", ok: true,
			bound: Binding{Node: &Ref{Name: "vm", UID: "node-uid"}},
			extra: map[string][]string{"authentication.kubernetes.io/node-name": {"vm"}, "authentication.kubernetes.io/node-uid": {"node-uid"}}},
		{name: "a node-bound token of a recreated node is rejected", bound: Binding{Node: &Ref{Name: "vm", UID: "old-uid"}}},
		{name: "a node-bound token of a deleted node is rejected", bound: Binding{Node: &Ref{Name: "gone", UID: "x"}}},
		{name: "a pod-bound token of a deleted pod is rejected", bound: Binding{Pod: &Ref{Name: "gone", UID: "x"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token, _, err := signer.Issue("ns", sa, tc.bound, nil, time.Hour, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			u, ok, err := a.AuthenticateToken(context.Background(), token)
			if err != nil || ok != tc.ok {
				t.Fatalf("authenticated = %v, %v; want %v", ok, err, tc.ok)
			}
			if !ok {
				return
			}
			if len(u.Extra["authentication.kubernetes.io/credential-id"]) != 1 {
				t.Errorf("credential-id = %v", u.Extra["authentication.kubernetes.io/credential-id"])
			}
			delete(u.Extra, "authentication.kubernetes.io/credential-id")
			if !reflect.DeepEqual(u.Extra, tc.extra) {
				t.Errorf("extra = %v, want %v", u.Extra, tc.extra)
			}
		})
	}
}
