package statuspage

import (
	"bytes"
	stdhtml "html"
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel is what every link in rendered Markdown carries: no ranking credit for the target, and no window.opener.
const linkRel = "nofollow noopener"

// markdown converts update bodies to HTML. Raw HTML in the source is dropped by goldmark (html.WithUnsafe is
// deliberately not set); the sanitiser below is the second, independent line.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.Table),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkRelTransformer{}, 100))),
	// A status update is written as prose with line breaks; keep them rather than folding lines together.
	goldmark.WithRendererOptions(html.WithHardWraps(),
		renderer.WithNodeRenderers(util.Prioritized(headingAsParagraph{}, 100))),
)

// headingAsParagraph renders a heading as a bold paragraph: an update is one card of prose, and a line followed by
// "---" (common in bilingual notices) must not become a page-sized title.
type headingAsParagraph struct{}

func (headingAsParagraph) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, func(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			_, _ = w.WriteString("<p><strong>")
		} else {
			_, _ = w.WriteString("</strong></p>\n")
		}
		return ast.WalkContinue, nil
	})
}

// sanitizer is bluemonday's policy for user content, limited to http, https and mailto URLs, plus the one rel value
// that linkRelTransformer sets.
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^nofollow noopener$`)).OnElements("a")
	return p
}()

// RenderMarkdown renders a Markdown body to sanitised HTML, safe to insert into a page as is: no raw HTML from the
// source, no event-handler attributes, no URL schemes other than http, https and mailto, and rel="nofollow noopener"
// on links.
func RenderMarkdown(src string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only when writing fails, which a bytes.Buffer does not; fall back to escaped text anyway.
		return "<p>" + stdhtml.EscapeString(src) + "</p>"
	}
	return string(sanitizer.SanitizeBytes(buf.Bytes()))
}

// linkRelTransformer sets rel="nofollow noopener" on every link and autolink goldmark parsed whose URL the sanitiser
// keeps. A link it would strip gets no rel either, so the sanitiser drops the then attribute-less <a> altogether.
type linkRelTransformer struct{}

func (linkRelTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var dest []byte
		switch n := n.(type) {
		case *ast.Link:
			dest = n.Destination
		case *ast.AutoLink:
			dest = n.URL(reader.Source())
		default:
			return ast.WalkContinue, nil
		}
		if allowedURL(string(dest)) {
			n.SetAttributeString("rel", []byte(linkRel))
		}
		return ast.WalkContinue, nil
	})
}

// allowedURL reports whether a link target is relative or uses http, https or mailto, as the sanitiser requires.
func allowedURL(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https", "mailto":
		return true
	}
	return false
}
