// Package storage keeps API objects in etcd and serves reads and watches from memory.
//
// Objects are stored as protobuf under /registry/<resource>/[<namespace>/]<name>, the
// layout upstream uses, and an object's resourceVersion is the etcd mod revision of its
// key. One etcd watch on the whole prefix feeds a cache per resource; gets, lists and
// watches are answered from those caches once they have caught up with the latest
// write, so reads are consistent without a round trip to etcd. Writes are etcd
// transactions that compare the mod revision, which is what makes optimistic
// concurrency (409 Conflict) exact.
package storage
