package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Sign returns the Standard Webhooks signature header value of one message: "v1," and the base64 HMAC-SHA256, keyed
// with the secret's bytes after "whsec_", of "id.timestamp.body".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", errors.New("webhook secret is not whsec_ and base64")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

type httpSender struct {
	client *http.Client
}

// send POSTs the message body. The webhook-id is the delivery's id, the same on every attempt, so a receiver can
// drop the duplicate a retry after a lost answer makes.
func (s *httpSender) send(ctx context.Context, id string, m Message) error {
	if len(m.Body) == 0 {
		return errPermanent{errors.New("no body to send")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To, bytes.NewReader(m.Body))
	if err != nil {
		return errPermanent{fmt.Errorf("bad target URL: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "mim-notifier")
	if m.Channel == ChannelWebhook {
		ts := time.Now().Unix()
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		if m.Secret != "" {
			sig, err := Sign(m.Secret, id, ts, m.Body)
			if err != nil {
				return errPermanent{err}
			}
			req.Header.Set("webhook-signature", sig)
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrBlockedTarget) {
			return errPermanent{ErrBlockedTarget}
		}
		return errors.New(describeHTTPError(err))
	}
	defer resp.Body.Close()
	// Read a little of the answer (Slack names its errors in the body), never more, and never show it to
	// subscribers.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	answer := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusGone:
		return errGone{reason: "the receiver answered 410 Gone"}
	case m.Channel == ChannelSlack && slackGone(resp.StatusCode, answer):
		return errGone{reason: fmt.Sprintf("Slack answered %d %s", resp.StatusCode, answer)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return errPermanent{fmt.Errorf("receiver answered %d (redirect not followed)", resp.StatusCode)}
	default:
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
}

// slackGone reports whether Slack says the incoming webhook will never work again.
func slackGone(code int, answer string) bool {
	switch answer {
	case "no_service", "channel_is_archived", "channel_not_found", "no_team", "team_disabled", "invalid_token",
		"action_prohibited", "no_active_hooks":
		return true
	}
	return code == http.StatusNotFound && answer == ""
}

// describeHTTPError names a transport failure without echoing the URL (it may carry a secret).
func describeHTTPError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return "timed out"
	}
	return err.Error()
}

// mailer sends email through the configured SMTP server.
type mailer struct {
	opts []mail.Option
	host string
	from string
}

// newMailer reads smtp://user:pass@host:port?tls=starttls|tls|none. Empty raw gives a mailer that refuses to send.
func newMailer(raw, from string, timeout time.Duration) (*mailer, error) {
	if raw == "" {
		return &mailer{}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("MIM_SMTP_URL must look like smtp://user:pass@host:587?tls=starttls")
	}
	if from == "" {
		return nil, errors.New("MIM_MAIL_FROM is needed with MIM_SMTP_URL")
	}
	opts := []mail.Option{mail.WithTimeout(timeout)}
	tlsMode := u.Query().Get("tls")
	if u.Scheme == "smtps" && tlsMode == "" {
		tlsMode = "tls"
	}
	port := 587
	switch tlsMode {
	case "", "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		opts = append(opts, mail.WithSSL())
		port = 465
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		port = 25
	default:
		return nil, fmt.Errorf("MIM_SMTP_URL tls=%q: use starttls, tls or none", tlsMode)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, errors.New("MIM_SMTP_URL has a bad port")
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()),
			mail.WithPassword(pass))
	}
	return &mailer{opts: opts, host: u.Hostname(), from: from}, nil
}

// ErrEmailOff is why an email is not sent when no SMTP server is configured.
var ErrEmailOff = errors.New("email notifications are off: set MIM_SMTP_URL and MIM_MAIL_FROM")

func (s *mailer) send(ctx context.Context, id string, m Message) error {
	if s.host == "" {
		// A configuration error: retrying cannot fix it, so the delivery is dead at once, with the reason.
		return errPermanent{ErrEmailOff}
	}
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return errPermanent{fmt.Errorf("sender address: %w", err)}
	}
	if err := msg.To(m.To); err != nil {
		return errPermanent{fmt.Errorf("recipient address: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(id + "@mim")
	msg.SetDate()
	for k, v := range m.Headers {
		msg.SetGenHeader(mail.Header(k), v)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	var se *mail.SendError
	if errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && !se.IsTemp() {
		return errGone{reason: "hard bounce: the mail server refused the recipient"}
	}
	return err
}

// MarshalBody is json.Marshal without HTML escaping, so text like "<b>" stays readable in webhook bodies.
func MarshalBody(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
