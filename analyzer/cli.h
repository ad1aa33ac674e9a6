/* The command line: parsing, help and version. */
#ifndef TTLSLEUTH_CLI_H
#define TTLSLEUTH_CLI_H

int cli_main(int argc, char **argv);

#endif
