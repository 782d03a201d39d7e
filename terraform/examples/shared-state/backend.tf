# The tectonic example with its state in PostgreSQL, through Terraform's built-in `pg` backend (state
# locking included), so that workstations and CI runners share one state. main.tf, cluster.tf,
# variables.tf and outputs.tf are symbolic links to ../tectonic's: the same wiring, one copy.
#
# The connection string stays out of the repository: give it at init time,
#   terraform init -backend-config="conn_str=postgres://USER@HOST/DATABASE?sslmode=verify-full"
# or in the PG_CONN_STR environment variable. The state holds every private key of the cluster: treat
# that database as a key store. docs/day-two.md has the CI plan check and rotation recipes.

terraform {
  backend "pg" {}
}
