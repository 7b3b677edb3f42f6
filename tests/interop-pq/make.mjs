// Makes the post-quantum fixtures in tests/fixtures/pq/ with typage (npm age-encryption), an independent
// age implementation that speaks mlkem768x25519. Run: cd tests/interop-pq && npm ci && node make.mjs
import * as age from "age-encryption"
import { writeFileSync, mkdirSync } from "node:fs"

const out = new URL("../fixtures/pq/", import.meta.url)
mkdirSync(out, { recursive: true })
const write = (name, data) => writeFileSync(new URL(name, out), data)

const plaintext = "name,secret\nGitHub,JBSWY3DPEHPK3PXP\nAWS root,GEZDGNBVGY3TQOJQ\n"

const identity = await age.generateHybridIdentity()
const recipient = await age.identityToRecipient(identity)
write("identity.txt", `# made by typage (age-encryption) generateHybridIdentity\n${identity}\n`)
write("recipient.txt", `${recipient}\n`)
write("plaintext.csv", plaintext)

async function encrypt(recipients) {
    const e = new age.Encrypter()
    for (const r of recipients) e.addRecipient(r)
    return await e.encrypt(plaintext)
}

// PQ only, binary.
write("pq.age", await encrypt([recipient]))
// PQ only, ASCII-armoured.
write("pq-armored.age", age.armor.encode(await encrypt([recipient])))

// Several PQ recipients: ours is the second of three.
const others = []
for (let i = 0; i < 2; i++) others.push(await age.identityToRecipient(await age.generateHybridIdentity()))
write("pq-several.age", await encrypt([others[0], recipient, others[1]]))

// The PQ identity inside a passphrase-encrypted identity file (scrypt, work factor 18, as age -p).
const passphrase = "correct horse battery staple"
const p = new age.Encrypter()
p.setPassphrase(passphrase)
p.setScryptWorkFactor(18)
write("identity-encrypted.age", age.armor.encode(await p.encrypt(`${identity}\n`)))
write("identity-passphrase.txt", `${passphrase}\n`)

console.log("wrote tests/fixtures/pq/")
