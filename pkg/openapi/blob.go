package openapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"fmt"
	"hash"
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

// compressor turns documents into blobs as they are written, so no document is
// ever held uncompressed; its gzip state (hundreds of kilobytes) is reused from
// one document to the next. It uses gzip's default level: the best one takes
// twice as long for under one percent.
type compressor struct {
	zw  *gzip.Writer
	out bytes.Buffer
	sum hash.Hash
	buf *bufio.Writer
	n   int
}

func newCompressor() *compressor {
	c := &compressor{sum: sha512.New()}
	c.zw, _ = gzip.NewWriterLevel(&c.out, gzip.DefaultCompression) // the level is valid
	c.buf = bufio.NewWriterSize(writerFunc(c.write), 32<<10)
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *compressor) write(p []byte) (int, error) {
	c.sum.Write(p)
	c.n += len(p)
	return c.zw.Write(p)
}

// start begins a document; write it to the returned writer, then call finish.
func (c *compressor) start() io.Writer {
	c.out.Reset()
	c.zw.Reset(&c.out)
	c.sum.Reset()
	c.buf.Reset(writerFunc(c.write))
	c.n = 0
	return c.buf
}

func (c *compressor) finish() (*blob, error) {
	if err := c.buf.Flush(); err != nil {
		return nil, fmt.Errorf("compress OpenAPI document: %w", err)
	}
	if err := c.zw.Close(); err != nil {
		return nil, fmt.Errorf("compress OpenAPI document: %w", err)
	}
	gz := make([]byte, c.out.Len())
	copy(gz, c.out.Bytes())
	return &blob{gz: gz, etag: fmt.Sprintf("%X", c.sum.Sum(nil)), size: c.n}, nil
}

// blobOf compresses a whole document at once.
func (c *compressor) blobOf(data []byte) (*blob, error) {
	w := c.start()
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("compress OpenAPI document: %w", err)
	}
	return c.finish()
}

// open returns the uncompressed bytes as a stream.
func (b *blob) open() (io.Reader, error) { return gzip.NewReader(bytes.NewReader(b.gz)) }

// bytes returns the uncompressed bytes.
func (b *blob) bytes() ([]byte, error) {
	r, err := b.open()
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, b.size))
	if _, err := io.Copy(buf, r); err != nil {
		return nil, fmt.Errorf("decompress OpenAPI document: %w", err)
	}
	return buf.Bytes(), nil
}
