// Package nft describes nftables tables as data — chains of rules, sets and
// maps with their elements — and applies changes to the kernel.
//
// One description has two renderings: nft(8) syntax (String, Script), which
// golden tests read and the "nft -f" backend feeds to the nft command, and
// netlink messages (the Netlink backend, with github.com/google/nftables),
// which the proxy uses because it skips nft's parsing and its reading back of
// the whole table before every change. Every rule is built from the small set
// of expressions in expr.go, each of which knows both forms.
//
// Changes travel as a Tx: an ordered list of operations (add/flush/delete a
// chain, add a rule, add/delete a set, add/delete elements) that one backend
// applies as one kernel transaction, so a reader of the table sees either the
// old rules or the new ones.
package nft
