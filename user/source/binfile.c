// SPDX-License-Identifier: GPL-2.0
/*
 * Binary inspection with elfutils.  libdwfl merges every symbol source a
 * distribution may use (.dynsym, .symtab, MiniDebugInfo in .gnu_debugdata,
 * separate debuginfo found by build-id), so one loop sees them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "source/binfile.h"

/* The loadable segments, read once per file: a note or symbol's address
 * is turned into a file offset for every one of thousands. */
struct segs {
	GElf_Phdr ph[32];
	size_t n;
};

static void load_segs(Elf *elf, struct segs *sg)
{
	size_t n;

	sg->n = 0;
	if (elf_getphdrnum(elf, &n))
		return;
	for (size_t i = 0; i < n && sg->n < sizeof(sg->ph) / sizeof(sg->ph[0]); i++)
		if (gelf_getphdr(elf, i, &sg->ph[sg->n]) && sg->ph[sg->n].p_type == PT_LOAD)
			sg->n++;
}

/* Uprobes take a file offset: find the segment holding vaddr (executable
 * for code, any for data such as USDT semaphores). */
static uint64_t vaddr_to_offset(const struct segs *sg, uint64_t vaddr, int exec)
{
	for (size_t i = 0; i < sg->n; i++) {
		const GElf_Phdr *ph = &sg->ph[i];

		if ((exec && !(ph->p_flags & PF_X)) || vaddr < ph->p_vaddr ||
		    vaddr >= ph->p_vaddr + ph->p_memsz)
			continue;
		return vaddr - ph->p_vaddr + ph->p_offset;
	}
	return 0;
}

static int count_args(const char *args)
{
	int n = 0, in = 0;

	for (; *args; args++) {
		if (*args != ' ' && !in)
			n++;
		in = *args != ' ';
	}
	return n;
}

/* A note's desc: pc, .stapsdt.base address, semaphore (3 x u64), then
 * provider, name and argument strings.  Prelinking moves the first two:
 * the .stapsdt.base section says by how much. */
static void add_note(struct elf_info *info, const struct segs *sg, uint64_t base_addr,
		     const char *desc, size_t len)
{
	const char *prov = desc + 24, *name, *args;
	struct usdt_note *n;
	uint64_t w[3];

	if (len < 27)
		return;
	name = prov + strnlen(prov, len - 24) + 1;
	if (name >= desc + len || strcmp(prov, "qemu"))
		return;
	args = name + strnlen(name, desc + len - name) + 1;
	if (args > desc + len)
		return;
	if (info->nnotes == info->capnotes) {
		n = realloc(info->notes, (info->capnotes ? info->capnotes * 2 : 64) * sizeof(*n));
		if (!n)
			return;
		info->notes = n;
		info->capnotes = info->capnotes ? info->capnotes * 2 : 64;
	}
	n = &info->notes[info->nnotes++];
	memset(n, 0, sizeof(*n));
	memcpy(w, desc, sizeof(w));
	if (base_addr)
		w[0] += base_addr - w[1];
	n->pc_offset = vaddr_to_offset(sg, w[0], 1);
	n->sem_offset = w[2] ? vaddr_to_offset(sg, w[2], 0) : 0;
	snprintf(n->provider, sizeof(n->provider), "%s", prov);
	snprintf(n->name, sizeof(n->name), "%s", name);
	if ((size_t)(desc + len - args) > sizeof(n->args)) {
		n->nargs = -1;
		return;
	}
	snprintf(n->args, sizeof(n->args), "%.*s", (int)(desc + len - args), args);
	n->nargs = count_args(n->args);
}

static uint64_t section_addr(Elf *elf, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(elf, shstrndx, sh.sh_name) ?: "", want))
			return sh.sh_addr;
	return 0;
}

static void read_notes(Elf *elf, struct elf_info *info)
{
	uint64_t base_addr = section_addr(elf, ".stapsdt.base");
	Elf_Scn *scn = NULL;
	struct segs sg;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	load_segs(elf, &sg);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		if (strcmp(elf_strptr(elf, shstrndx, sh.sh_name) ?: "", ".note.stapsdt"))
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0)
			if (nh.n_type == 3)
				add_note(info, &sg, base_addr, (char *)data->d_buf + doff,
					 nh.n_descsz);
	}
}

/*
 * What attaching reads of a binary, asked of the disk at once: on a cold page
 * cache, a fault at a time (notes, symbol tables) or a probe site at a time
 * (the kernel reads each site's page as it registers the uprobe) adds up to
 * seconds on a large binary; issued together, the reads overlap.
 */
static void prefetch_sections(Elf *elf, int fd)
{
	static const char *const want[] = {
		".note.stapsdt", ".symtab", ".strtab", ".dynsym", ".dynstr", ".gnu_debugdata",
	};
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name) ?: "";
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strcmp(name, want[i]))
				posix_fadvise(fd, sh.sh_offset, sh.sh_size, POSIX_FADV_WILLNEED);
	}
}

void elf_prefetch_pages(const char *path, const uint64_t *offsets, size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < n; i++)
		posix_fadvise(fd, offsets[i] & ~(uint64_t)(page - 1), page, POSIX_FADV_WILLNEED);
	close(fd);
}

static int has_section(Elf *elf, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(elf, shstrndx, sh.sh_name) ?: "", want))
			return 1;
	return 0;
}

int elf_open_info(const char *path, struct elf_info *info, char *err, size_t errlen)
{
	int fd, ret = 0;
	Elf *elf;

	memset(info, 0, sizeof(*info));
	snprintf(info->path, sizeof(info->path), "%s", path);
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(err, errlen, "%s is not an ELF file", path);
		ret = -ENOEXEC;
	} else {
		GElf_Ehdr eh;

		prefetch_sections(elf, fd);
		read_notes(elf, info);
		info->pie = gelf_getehdr(elf, &eh) && eh.e_type == ET_DYN;
		snprintf(info->symsrc, sizeof(info->symsrc), "%s",
			 has_section(elf, ".symtab") ? ".symtab" :
			 has_section(elf, ".gnu_debugdata") ? ".gnu_debugdata" : ".dynsym");
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

void elf_free_info(struct elf_info *info)
{
	free(info->notes);
	info->notes = NULL;
	info->nnotes = info->capnotes = 0;
}

const struct usdt_note *elf_find_note(const struct elf_info *info, const char *name)
{
	for (size_t i = 0; i < info->nnotes; i++)
		if (!strcmp(info->notes[i].name, name))
			return &info->notes[i];
	return NULL;
}

const struct usdt_note *elf_next_note(const struct elf_info *info,
				      const struct usdt_note *prev)
{
	for (const struct usdt_note *n = prev + 1; n < info->notes + info->nnotes; n++)
		if (!strcmp(n->name, prev->name))
			return n;
	return NULL;
}

/*
 * Separate debuginfo by build-id under /usr/lib/debug; and where the user set
 * DEBUGINFOD_URLS, elfutils' whole search (.gnu_debuglink, then the debuginfod
 * servers).  Only then: elfutils 0.188 loads libdebuginfod (and curl, TLS,
 * Kerberos, LDAP: 30 libraries, 80 to 120 ms here) at its first search even
 * with no server to ask.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  GElf_Addr base, const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
					      debuglink_file, debuglink_crc, debuginfo_file_name);

	if (fd >= 0 || !urls || !urls[0])
		return fd;
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
					    debuglink_file, debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks dwfl_cb = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_debuginfo,
};

static void match_symbols(Dwfl_Module *mod, Elf *main_elf, GElf_Addr bias,
			  const char *const *names, size_t n, struct sym_loc *locs,
			  struct elf_info *info)
{
	int nsyms = dwfl_module_getsymtab(mod);
	struct segs sg;

	load_segs(main_elf, &sg);
	for (int i = 1; i < nsyms; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		int type = GELF_ST_TYPE(sym.st_info);

		if (!s || !sym.st_value || (type != STT_FUNC && type != STT_OBJECT))
			continue;
		info->nsyms += type == STT_FUNC;
		for (size_t k = 0; k < n; k++) {
			if (locs[k].vaddr || strcmp(s, names[k]))
				continue;
			locs[k].vaddr = addr - bias;
			if (type == STT_FUNC)
				locs[k].offset = vaddr_to_offset(&sg, addr - bias, 1);
		}
	}
}

int elf_resolve(const char *path, const char *const *names, size_t n,
		struct sym_loc *locs, struct elf_info *info, char *err, size_t errlen)
{
	Dwfl *dwfl = dwfl_begin(&dwfl_cb);
	Dwfl_Module *mod;
	GElf_Addr bias;
	const char *debugfile = NULL;
	Elf *main_elf;
	int ret = 0;

	memset(locs, 0, n * sizeof(*locs));
	info->nsyms = 0;
	if (!dwfl)
		return -ENOMEM;
	mod = dwfl_report_offline(dwfl, "qemu", path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	main_elf = mod ? dwfl_module_getelf(mod, &bias) : NULL;
	if (!main_elf) {
		snprintf(err, errlen, "cannot read symbols of %s: %s", path, dwfl_errmsg(-1));
		ret = -ENOEXEC;
		goto out;
	}
	match_symbols(mod, main_elf, bias, names, n, locs, info);
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
	if (debugfile)
		snprintf(info->symsrc, sizeof(info->symsrc), "debuginfo %s", debugfile);
out:
	dwfl_end(dwfl);
	return ret;
}

/* From a parameter (or any DIE with a type) to the structure its type names,
 * through pointers, typedefs and qualifiers. */
static bool to_struct(Dwarf_Die *die)
{
	Dwarf_Attribute at;

	while (dwarf_attr_integrate(die, DW_AT_type, &at) && dwarf_formref_die(&at, die)) {
		switch (dwarf_tag(die)) {
		case DW_TAG_structure_type:
			return !dwarf_hasattr(die, DW_AT_declaration);
		case DW_TAG_pointer_type: case DW_TAG_typedef: case DW_TAG_const_type:
		case DW_TAG_volatile_type:
			continue;
		default:
			return false;
		}
	}
	return false;
}

/* Parameter number param of a function DIE; an out-of-line copy may list its
 * parameters only in the abstract instance it refers to. */
static bool nth_param(Dwarf_Die *fn, int param, Dwarf_Die *out)
{
	Dwarf_Attribute at;
	Dwarf_Die origin;
	int k = 0;

	if (dwarf_child(fn, out) == 0)
		do {
			if (dwarf_tag(out) == DW_TAG_formal_parameter && k++ == param)
				return true;
		} while (dwarf_siblingof(out, out) == 0);
	if (k == 0 && (dwarf_attr(fn, DW_AT_abstract_origin, &at) ||
		       dwarf_attr(fn, DW_AT_specification, &at)) && dwarf_formref_die(&at, &origin))
		return nth_param(&origin, param, out);
	return false;
}

static void member_offsets(Dwarf_Die *st, const char *const *members, size_t n, long *offsets)
{
	Dwarf_Die m;

	for (size_t i = 0; i < n; i++)
		offsets[i] = -1;
	if (dwarf_child(st, &m))
		return;
	do {
		Dwarf_Attribute at;
		Dwarf_Word off;
		const char *name = dwarf_diename(&m);

		if (dwarf_tag(&m) != DW_TAG_member || !name ||
		    !dwarf_attr(&m, DW_AT_data_member_location, &at) || dwarf_formudata(&at, &off))
			continue;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(name, members[i]))
				offsets[i] = (long)off;
	} while (dwarf_siblingof(&m, &m) == 0);
}

/* The function whose code holds addr (a module address), from its CU's scopes. */
static bool function_at(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Die *fn)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias), *scopes = NULL;
	int n = cu ? dwarf_getscopes(cu, addr - bias, &scopes) : -1;
	bool found = false;

	for (int i = 0; i < n && !found; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram) {
			*fn = scopes[i];
			found = true;
		}
	free(scopes);
	return found;
}

int elf_param_struct_offsets(const char *path, uint64_t func_vaddr, int param,
			     const char *const *members, size_t n, long *offsets, char *why,
			     size_t len)
{
	Dwfl *dwfl = dwfl_begin(&dwfl_cb);
	Dwfl_Module *mod;
	GElf_Addr bias;
	Dwarf_Addr dwbias;
	Dwarf_Die fn, die;
	int ret = -1;

	if (!dwfl) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	mod = dwfl_report_offline(dwfl, "qemu", path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod || !dwfl_module_getelf(mod, &bias) || !dwfl_module_getdwarf(mod, &dwbias))
		snprintf(why, len, "no DWARF in the binary or its debuginfo");
	else if (!function_at(mod, func_vaddr + bias, &fn))
		snprintf(why, len, "the function is not in its DWARF");
	else if (!nth_param(&fn, param, &die) || !to_struct(&die))
		snprintf(why, len, "its parameter %d is not a pointer to a complete structure "
			 "in its DWARF", param + 1);
	else {
		member_offsets(&die, members, n, offsets);
		ret = 0;
	}
	dwfl_end(dwfl);
	return ret;
}
