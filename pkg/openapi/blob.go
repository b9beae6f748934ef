package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"fmt"
	"io"
)

// blob is an encoded document, kept gzip-compressed: most clients take it so,
// and it is a tenth of the size.
type blob struct {
	gz []byte
	// etag is the upper-case hex SHA-512 of the uncompressed bytes, as upstream's.
	etag string
	size int
}

func newBlob(data []byte) (*blob, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("compress OpenAPI document: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress OpenAPI document: %w", err)
	}
	gz := make([]byte, buf.Len()) // exact size: the buffer over-allocates
	copy(gz, buf.Bytes())
	return &blob{gz: gz, etag: fmt.Sprintf("%X", sha512.Sum512(data)), size: len(data)}, nil
}

// open returns the uncompressed bytes as a stream.
func (b *blob) open() (io.Reader, error) { return gzip.NewReader(bytes.NewReader(b.gz)) }

// bytes returns the uncompressed bytes.
func (b *blob) bytes() ([]byte, error) {
	r, err := b.open()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, b.size)
	buf := bytes.NewBuffer(out)
	if _, err := io.Copy(buf, r); err != nil {
		return nil, fmt.Errorf("decompress OpenAPI document: %w", err)
	}
	return buf.Bytes(), nil
}
