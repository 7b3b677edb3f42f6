// The other direction: typage decrypts a file teamotp wrote to post-quantum recipients.
// Usage: node decrypt.mjs IDENTITY_FILE AGE_FILE  (the plaintext goes to stdout; exit 1 on failure)
import * as age from "age-encryption"
import { readFileSync } from "node:fs"

const [identityPath, filePath] = process.argv.slice(2)
const identities = readFileSync(identityPath, "utf8")
    .split("\n").map((l) => l.trim()).filter((l) => l.startsWith("AGE-SECRET-KEY-"))
const d = new age.Decrypter()
for (const id of identities) d.addIdentity(id)
let file = readFileSync(filePath)
if (file.toString("latin1").trimStart().startsWith("-----BEGIN")) file = age.armor.decode(file.toString("utf8"))
try {
    process.stdout.write(await d.decrypt(file, "text"))
} catch (e) {
    console.error(`typage could not decrypt: ${e.message}`)
    process.exit(1)
}
