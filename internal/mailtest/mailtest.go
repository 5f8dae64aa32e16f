// Package mailtest is a real SMTP server for tests: mim's mail goes to it over TCP, and tests read what arrived.
package mailtest

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// Sink is a real SMTP server in the test process: what mim sends arrives here over TCP.
type Sink struct {
	addr string
	mu   sync.Mutex
	mail []Mail
	// refuse makes RCPT TO fail permanently (550) for these addresses: a hard bounce.
	refuse map[string]bool
	// failNext makes the next RCPT TO commands fail temporarily (451).
	failNext int
}

// Mail is one received message, parsed.
type Mail struct {
	To      string
	Header  mail.Header
	Subject string
	Text    string
	HTML    string
	Raw     []byte
}

// New starts a sink on a free loopback port, closed when the test ends.
func New(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{refuse: map[string]bool{}}
	srv := smtp.NewServer(smtpBackend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the MIM_SMTP_URL of the sink.
func (s *Sink) URL() string { return "smtp://" + s.addr + "?tls=none" }

func (s *Sink) RefuseRcpt(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[addr] = true
}

// FailNext makes the next n RCPT TO commands fail temporarily (451), as a busy server does.
func (s *Sink) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// To returns the mail received for addr so far.
func (s *Sink) To(addr string) []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Mail
	for _, m := range s.mail {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// WaitFor waits until addr has received n messages and returns them.
func (s *Sink) WaitFor(t testing.TB, addr string, n int) []Mail {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.To(addr)) >= n }, 15*time.Second, 10*time.Millisecond,
		"%s received %d messages, want %d", addr, len(s.To(addr)), n)
	return s.To(addr)
}

type smtpBackend struct{ s *Sink }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: b.s}, nil }

type smtpSession struct {
	s  *Sink
	to []string
}

func (*smtpSession) Mail(string, *smtp.MailOptions) error { return nil }

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	refused := x.s.refuse[to]
	busy := x.s.failNext > 0
	if busy {
		x.s.failNext--
	}
	x.s.mu.Unlock()
	if busy {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	if refused {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseMail(raw)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	for _, to := range x.to {
		m.To = to
		x.s.mail = append(x.s.mail, m)
	}
	return nil
}

func (x *smtpSession) Reset()      { x.to = nil }
func (*smtpSession) Logout() error { return nil }

// parseMail decodes a message's headers and its text and HTML parts.
func parseMail(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	m := Mail{Header: msg.Header, Subject: subject, Raw: raw}
	err = walkParts(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

func walkParts(contentType, encoding string, body io.Reader, m *Mail) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walkParts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text += string(b)
	case "text/html":
		m.HTML += string(b)
	}
	return nil
}
