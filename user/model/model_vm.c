// SPDX-License-Identifier: GPL-2.0
/* Process identities (VM name, UUID) the source layer notes for the views. */
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "util/grow.h"
#include "util/json.h"

static bool held(const struct model *m, uint32_t pid)
{
	for (const struct mig *g = m->head; g; g = g->next)
		if (g->pid == pid)
			return true;
	return false;
}

/* Full: the oldest identity no migration the model holds refers to makes
 * room (the model holds at most MODEL_MAX_OPEN + MODEL_KEEP_FINISHED, fewer
 * than MODEL_MAX_VMS), so memory follows the processes of interest, not a
 * recording's length or an exporter's uptime. */
static struct vm_ident *reuse_oldest(struct model *m)
{
	for (uint32_t i = 0; i < m->nvms; i++)
		if (!held(m, m->vms[i].pid)) {
			memmove(&m->vms[i], &m->vms[i + 1], (m->nvms - i - 1) * sizeof(*m->vms));
			return &m->vms[m->nvms - 1];
		}
	return NULL;
}

static struct vm_ident *slot(struct model *m, uint32_t pid)
{
	for (uint32_t i = 0; i < m->nvms; i++)
		if (m->vms[i].pid == pid)
			return &m->vms[i];
	if (m->nvms >= MODEL_MAX_VMS)
		return reuse_oldest(m);
	if (!grow((void **)&m->vms, m->nvms, &m->capvms, sizeof(*m->vms), 16))
		return NULL;
	return &m->vms[m->nvms++];
}

/* Names come from command lines and recordings: no control character
 * reaches a terminal, a label or a page through them. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void vm_ident_sanitize(struct vm_ident *v)
{
	v->name[sizeof(v->name) - 1] = v->uuid[sizeof(v->uuid) - 1] = 0;
	v->via[sizeof(v->via) - 1] = 0;
	sanitize(v->name);
	sanitize(v->uuid);
	sanitize(v->via);
}

void model_note_vm(struct model *m, const struct vm_ident *id)
{
	struct vm_ident *v = slot(m, id->pid);

	if (!v)
		return;
	*v = *id;
	vm_ident_sanitize(v);
}

const struct vm_ident *model_vm(const struct model *m, uint32_t pid)
{
	for (uint32_t i = 0; i < m->nvms; i++)
		if (m->vms[i].pid == pid)
			return &m->vms[i];
	return NULL;
}

const char *mig_vm_name(const struct mig *g)
{
	const struct vm_ident *v = g->model ? model_vm(g->model, g->pid) : NULL;

	return v && v->name[0] ? v->name : NULL;
}

static void str_or_null(struct jw *j, const char *key, const char *s)
{
	if (s && s[0])
		jw_str(j, key, s);
	else
		jw_null(j, key);
}

void vm_json(struct jw *j, const struct model *m, uint32_t pid)
{
	const struct vm_ident *v = m ? model_vm(m, pid) : NULL;

	str_or_null(j, "vm", v ? v->name : NULL);
	str_or_null(j, "uuid", v ? v->uuid : NULL);
}

void mig_print_vm_text(FILE *out, const struct mig *src, const struct mig *dst)
{
	const char *a = src ? mig_vm_name(src) : NULL, *b = dst ? mig_vm_name(dst) : NULL;

	if (a && b && strcmp(a, b))
		fprintf(out, "; vm %s -> %s", a, b);
	else if (a || b)
		fprintf(out, "; vm %s", a ? a : b);
}
