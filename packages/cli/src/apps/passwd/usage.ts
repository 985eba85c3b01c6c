/**
 * The usage text of Mosquitto 2.1's mosquitto_passwd built with argon2 (argon2id is our default
 * hash), except the `-c` line: 2.1's says "file must not exist" but its code, like 2.0's and
 * ours, overwrites an existing file, so we keep 2.0's wording. Printed on stdout, exit 1.
 */
export const PASSWD_USAGE =
  'mosquitto_passwd is a tool for managing password files for mosquitto.\n\n' +
  'Usage: mosquitto_passwd [-H argon2id | -H sha512-pbkdf2] [-c | -D] passwordfile username\n' +
  '       mosquitto_passwd [-H argon2id | -H sha512-pbkdf2] [-c] -b passwordfile username password\n' +
  '       mosquitto_passwd -U passwordfile\n' +
  ' -b : run in batch mode to allow passing passwords on the command line.\n' +
  ' -c : create a new password file. This will overwrite existing files.\n' +
  ' -D : delete the username rather than adding/updating its password.\n' +
  ' -H : specify the hashing algorithm. Defaults to argon2id, which is recommended.\n' +
  '      Mosquitto 2.x and earlier defaulted to sha512-pbkdf2.\n' +
  '      Mosquitto 1.6 and earlier defaulted to sha512.\n' +
  ' -U : update a plain text password file to use hashed passwords.\n' +
  '\nSee https://mosquitto.org/ for more information.\n\n';
