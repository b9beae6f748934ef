package cli

import "time"

func afterSeconds(n int) <-chan time.Time { return time.After(time.Duration(n) * time.Second) }
