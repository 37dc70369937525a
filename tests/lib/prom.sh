# shell=bash
# prom_start DIR PORT TARGET [RULES]: a real Prometheus on 127.0.0.1:PORT, its
# data in DIR, scraping TARGET (job "swack") every second and evaluating the
# rule file RULES every second; its pid in PROM_PID, its log in DIR/log.
prom_start() {
	local dir=$1 port=$2 target=$3 rules=${4:-}
	mkdir -p "$dir/data"
	{
		printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
		[[ -n $rules ]] && printf 'rule_files:\n  - %s\n' "$rules"
		printf 'scrape_configs:\n  - job_name: swack\n    static_configs:\n'
		printf "      - targets: ['%s']\n" "$target"
	} >"$dir/prometheus.yml"
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" >"$dir/log" 2>&1 &
	PROM_PID=$!
}
