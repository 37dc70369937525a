// SPDX-License-Identifier: GPL-2.0
/*
 * The HTML page's stylesheet and script, kept as files of their own
 * (user/diagnose/html/) so they read and lint as CSS and JavaScript, and built into
 * the binary as NUL-terminated strings.
 */
__asm__(".section .rodata\n"
	".global diag_html_style\n"
	"diag_html_style:\n"
	".incbin \"user/diagnose/html/page.css\"\n"
	".byte 0\n"
	".global diag_html_script\n"
	"diag_html_script:\n"
	".incbin \"user/diagnose/html/page.js\"\n"
	".byte 0\n"
	".previous\n");
