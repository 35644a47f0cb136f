// SPDX-License-Identifier: GPL-2.0
/*
 * json_check: a strict check of JSON Lines for cli_test.sh, where the
 * guest (busybox) has no JSON parser.  Each line of standard input must be
 * one JSON object (RFC 8259: strings with valid escapes and no control
 * characters, numbers without leading zeros, true, false, null, nesting up
 * to 64 deep) and nothing else; an empty input is no JSON Lines either.
 * Exit status 0 when every line is, else 1 with the first bad line and
 * column on stderr.
 *
 * Copyright (C) 2026 The hyper_dmabuf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE	65536
#define MAX_DEPTH	64

static const char *p;

static int value(int depth);

static void ws(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
}

static int hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static int string(void)
{
	int i;

	if (*p++ != '"')
		return -1;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return -1;
		if (*p++ != '\\')
			continue;
		if (strchr("\"\\/bfnrt", *p) && *p) {
			p++;
			continue;
		}
		if (*p++ != 'u')
			return -1;
		for (i = 0; i < 4; i++)
			if (!hex(*p++))
				return -1;
	}
	p++;
	return 0;
}

static int digits(void)
{
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	return 0;
}

static int number(void)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (digits())
		return -1;
	if (*p == '.') {
		p++;
		if (digits())
			return -1;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (digits())
			return -1;
	}
	return 0;
}

static int word(const char *w)
{
	size_t n = strlen(w);

	if (strncmp(p, w, n))
		return -1;
	p += n;
	return 0;
}

static int object(int depth)
{
	p++;
	ws();
	if (*p == '}') {
		p++;
		return 0;
	}
	for (;;) {
		ws();
		if (string())
			return -1;
		ws();
		if (*p++ != ':')
			return -1;
		if (value(depth + 1))
			return -1;
		ws();
		if (*p == '}') {
			p++;
			return 0;
		}
		if (*p++ != ',')
			return -1;
	}
}

static int array(int depth)
{
	p++;
	ws();
	if (*p == ']') {
		p++;
		return 0;
	}
	for (;;) {
		if (value(depth + 1))
			return -1;
		ws();
		if (*p == ']') {
			p++;
			return 0;
		}
		if (*p++ != ',')
			return -1;
	}
}

static int value(int depth)
{
	if (depth > MAX_DEPTH)
		return -1;
	ws();
	switch (*p) {
	case '{':
		return object(depth);
	case '[':
		return array(depth);
	case '"':
		return string();
	case 't':
		return word("true");
	case 'f':
		return word("false");
	case 'n':
		return word("null");
	default:
		return number();
	}
}

int main(void)
{
	static char line[MAX_LINE];
	unsigned long n = 0;
	size_t len;

	while (fgets(line, sizeof(line), stdin)) {
		n++;
		len = strlen(line);
		if (!len || line[len - 1] != '\n') {
			fprintf(stderr, "json_check: line %lu: too long or no newline\n",
				n);
			return 1;
		}
		line[len - 1] = '\0';
		p = line;
		ws();
		if (*p != '{' || value(0) || (ws(), *p)) {
			fprintf(stderr, "json_check: line %lu, column %ld: not a JSON object\n",
				n, (long)(p - line) + 1);
			return 1;
		}
	}
	if (!n) {
		fprintf(stderr, "json_check: no lines\n");
		return 1;
	}
	return 0;
}
