package netnstest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// ServeTCP answers every connection with the name and the client address seen.
func ServeTCP(t testing.TB, ns *NS, addr, name string) {
	var ln net.Listener
	ns.Do(func() {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr())
			}()
		}
	}()
}

// ServeUDP answers every datagram with the name and the sender.
func ServeUDP(t testing.TB, ns *NS, addr, name string) {
	var pc net.PacketConn
	ns.Do(func() {
		var err error
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(name+" "+from.String()), from)
		}
	}()
}

// AskTCP connects from ns and returns the first line the server sends.
func AskTCP(ns *NS, addr string) (string, error) {
	var c net.Conn
	var err error
	ns.Do(func() { c, err = net.DialTimeout("tcp", addr, 2*time.Second) })
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// AskUDP sends one datagram from ns and returns the answer.
func AskUDP(ns *NS, addr string) (string, error) {
	var c net.Conn
	var err error
	ns.Do(func() { c, err = net.Dial("udp", addr) })
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return "", err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}
